"""Money: integer minor units plus an ISO currency. No floats anywhere.

Parsing of what people type ("12.50", "1,234.50") is the one money parser of every form
(shop.web.fields.MoneyField): plain ASCII digits with an optional point, refused with a
message when it is anything else ("1e3", "+5", "1_000", full-width digits), has more
decimals than the currency allows, or is negative; then exact through Decimal.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision

MAX_MINOR = 10**12  # one hundred thousand million yuan: beyond any real price
# What an amount may look like: ASCII digits, thousands commas where they belong, a point.
PLAIN = re.compile(r"^(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?$")


class MoneyError(ValueError):
    pass


def exponent(currency: str) -> int:
    return get_currency_precision(currency)


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    if not isinstance(amount_minor, int):
        raise TypeError("money is an integer count of minor units")
    return Decimal(amount_minor).scaleb(-exponent(currency))


def parse_amount(text: str, currency: str) -> int:
    """'12.5' -> 1250 for CNY. Raises MoneyError with a message fit for a person."""
    from flask_babel import gettext as _

    text = (text or "").strip()
    if text.startswith("-") and PLAIN.match(text[1:]):
        raise MoneyError(_("The amount cannot be negative."))
    if not PLAIN.match(text):  # not "1e3", "+5", "1_000" or full-width digits
        raise MoneyError(_("Enter an amount such as 12.50."))
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise MoneyError(_("Enter an amount such as 12.50.")) from None
    places = exponent(currency)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise MoneyError(_("Use at most %(n)d decimal places.", n=places))
    minor = int(minor)
    if minor >= MAX_MINOR:
        raise MoneyError(_("The amount is too large."))
    return minor


def format_minor(amount_minor: int, currency: str, locale: str | None = None) -> str:
    """Format for display in the current locale, e.g. ¥12.50 or US$3.00."""
    from flask_babel import get_locale

    loc = locale or str(get_locale() or "zh_Hans")
    return format_currency(to_decimal(amount_minor, currency), currency, locale=loc)


def input_value(amount_minor: int | None, currency: str) -> str:
    """The value to put back into a form field: 1250 -> '12.50'."""
    if amount_minor is None:
        return ""
    return f"{to_decimal(amount_minor, currency):f}"


def refunded_share(whole: int, refunded_minor: int, goods_minor: int) -> int:
    """The share of `whole` (points, growth, a commission earned on some goods) that
    refunds of `refunded_minor` of those goods take back: all of it once all the goods
    are back, rounded down before. Goods of 0 (paid in points only): all of it."""
    if refunded_minor >= goods_minor:
        return whole
    return whole * max(0, refunded_minor) // goods_minor


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights` (integers >= 0), rounding explicitly by
    largest remainder: each part is rounded down, then the units left over go to the
    parts with the largest remainders (the earliest first on ties), so the parts always
    add up to `total`. All-zero weights give all of it to nothing: zeros, unless total
    is zero too."""
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate() splits amounts >= 0 by weights >= 0")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError("cannot allocate an amount over zero weights")
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts
