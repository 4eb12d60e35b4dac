import pytest
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.articles.models import Article
from shop.catalog.models import Category, Product, ProductImage, Sku, StockMovement
from shop.db import db
from shop.demo import DEMO_ACCOUNTS, load_demo

MODELS = (User, Category, Product, Sku, ProductImage, StockMovement)


def _snapshot():
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}
    stock = db.session.scalar(select(func.sum(Sku.stock)))
    return counts, stock


def test_demo_fills_an_empty_database_and_a_second_run_changes_nothing(app):
    app.config["IMAGE_WIDTHS"] = (120,)  # one small WebP per picture: the suite stays fast
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        first = _snapshot()
        counts, _stock = first
        assert counts["Category"] >= 8 and counts["Product"] >= 60
        assert counts["Sku"] > counts["Product"] and counts["ProductImage"] >= counts["Product"]
        top = db.session.scalar(select(func.count()).select_from(Category).where(Category.parent_id.is_(None)))
        assert top >= 8
        roles = set(db.session.scalars(select(User.role)))
        assert roles == {"shopper", "editor", "staff", "admin"}
        # their example.com addresses count as proven: an email link keeps their password
        assert None not in set(db.session.scalars(select(User.email_verified_at)))
        product = db.session.scalar(select(Product).where(Product.status == "on_sale"))
        assert product.translations["en"]["title"] and product.price_minor > product.cost_price_minor
        # sizes have a cost each (the cheapest takes the product's): the 5斤 box is judged
        # against its own cost by the below-cost guard
        cherries = db.session.scalar(select(Product).where(Product.code == "demo-chile-cherries"))
        one, two, five = cherries.skus
        assert one.cost_price_minor is None and one.cost_minor == cherries.cost_price_minor
        assert cherries.cost_price_minor < two.cost_minor < five.cost_minor < five.price_minor
        assert abs(five.cost_minor * 10_000 // five.price_minor  # the same share of the price
                   - cherries.cost_price_minor * 10_000 // one.price_minor) <= 1
        published = db.session.scalars(select(Article).where(Article.status == "published")).all()
        assert len(published) >= 3 and all(a.embeds for a in published)
    result = runner.invoke(args=["shop", "demo"])
    assert result.exit_code == 0 and "nothing changed" in result.output
    with app.app_context():
        assert _snapshot() == first
    # every ledger of the demo data adds up from its first row (coupons, group seats...)
    result = runner.invoke(args=["shop", "check-ledgers"])
    assert (result.exit_code, result.output) == (0, "Every ledger adds up to its balance.\n")


@pytest.mark.unbalanced  # a balance changed without its ledger, to see it reported
def test_the_ledger_check_names_what_does_not_add_up(app):
    from sqlalchemy import update

    from shop.catalog.services import move_stock
    from shop.promotions.models import Coupon
    from tests.factories import CouponFactory, product_with_skus

    _product, (sku, _) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 1990, 0)))
    coupon = CouponFactory(total_quantity=5, remaining=5)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["shop", "check-ledgers"]).exit_code == 0
    with app.app_context():
        move_stock(sku.id, -3, reason="sale", ref_type="test", ref_id="1")  # with its row: fine
        db.session.execute(update(Sku).where(Sku.id == sku.id).values(stock=Sku.stock + 2))
        db.session.execute(update(Coupon).where(Coupon.id == coupon.id).values(remaining=4))
        db.session.commit()
    result = runner.invoke(args=["shop", "check-ledgers"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"stock of SKU {sku.id}: balance 9, ledger 7",
                                          f"remaining of coupon {coupon.id}: balance 4, ledger 5"]


def test_demo_accounts_sign_in_with_the_readme_passwords(app, client, monkeypatch):
    monkeypatch.setattr("shop.demo.CATEGORIES", [])  # accounts only
    with app.app_context():
        load_demo()
        db.session.commit()
    for email, password, _nickname, role in DEMO_ACCOUNTS:
        client.signin(email, password)
        expected = 200 if role != "shopper" else 403
        assert client.get("/admin/").status_code == expected
        client.post_form("/signout")
