import pytest

from shop.money import MoneyError, format_minor, input_value, parse_amount

pytestmark = pytest.mark.pages  # money parsing and formatting: pure functions (SQLite pass only)


@pytest.mark.parametrize("text,minor", [("12.5", 1250), ("12.50", 1250), ("0", 0), ("1,234.01", 123401), (" 3 ", 300)])
def test_parse_amount(app, text, minor):
    with app.test_request_context():
        assert parse_amount(text, "CNY") == minor


@pytest.mark.parametrize("text", ["-1", "1.234", "abc", "", "NaN", "Infinity", "1e20", "0.001",
                                  "1e3", "+5", "1_000", "１０", "1,23", "12,50", "- 1"])
def test_parse_amount_refuses(app, text):
    with app.test_request_context(), pytest.raises(MoneyError):
        parse_amount(text, "CNY")


def test_format_and_input_value_are_exact(app):
    with app.test_request_context():
        assert format_minor(1990, "CNY", "zh_Hans") == "¥19.90"
        assert format_minor(5, "USD", "en") == "$0.05"
        assert format_minor(1000, "JPY", "en") == "¥1,000"
        assert input_value(123456789012, "CNY") == "1234567890.12"
    with pytest.raises(TypeError):
        input_value(19.9, "CNY")


def test_refunded_share_counts_against_the_goods_first():
    from shop.money import refunded_share

    assert refunded_share(200, 5_000, 20_000) == 50      # a quarter of the goods
    assert refunded_share(50, 3_000, 5_000) == 30        # rounded down: 30.0
    assert refunded_share(7, 1, 3) == 2                  # 2.33 -> 2
    assert refunded_share(200, 21_000, 20_000) == 200    # goods all refunded, then shipping
    assert refunded_share(300, 0, 0) == 300              # paid in points only
