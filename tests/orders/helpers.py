"""Orders made directly in the database for the backoffice tests (lists, counts, scope,
batch shipping): the rows checkout would write, without going through it."""

from __future__ import annotations

from datetime import timedelta

from shop.catalog.models import ProductImage
from shop.db import db, utcnow
from shop.orders.models import Order, OrderEvent, OrderLine
from shop.payments.models import Payment
from tests.factories import UserFactory, product_with_skus


def an_order(app, *, user=None, status: str = "paid", store=None, lines: int = 1,
             unit: int = 1990, shipped: bool = False, method: str | None = "wallet",
             title: str = "T恤", image: bool = False, days_ago: int = 0) -> int:
    """An order of `lines` lines (each one unit of its own product, `unit` each), paid by
    `method` unless unpaid, picked up at `store` if given: its id."""
    user = user or UserFactory()
    products = [product_with_skus(title=f"{title}{i}", skus=(("红", unit, 10),))
                for i in range(lines)]
    with app.app_context():
        if image:
            for product, _skus in products:
                db.session.add(ProductImage(product_id=product.id, key=f"img{product.id}x",
                                            width=480, height=480, widths="240,480"))
        total = unit * lines
        order = Order(user_id=user.id, idempotency_key=f"k{utcnow().timestamp()}-{id(products)}",
                      status=status, currency="CNY", subtotal_minor=total, total_minor=total,
                      ship_name="张三", ship_phone="13800138000",
                      ship_address=store.one_line() if store else "浙江省杭州市西湖区文三路 1 号",
                      pickup_store_id=store.id if store else None)
        order.created_at = utcnow() - timedelta(days=days_ago)
        if shipped:
            order.carrier, order.tracking_number, order.shipped_at = "顺丰", "SF1", utcnow()
        db.session.add(order)
        db.session.flush()
        for product, (sku,) in products:
            db.session.add(OrderLine(order_id=order.id, sku_id=sku.id, product_id=product.id,
                                     title=product.title, sku_label="红", unit_price_minor=unit,
                                     quantity=1, total_minor=unit, paid_minor=unit))
        db.session.add(OrderEvent(order_id=order.id, from_status=None, to_status="awaiting_payment",
                                  actor_id=user.id, reason="placed"))
        if status != "awaiting_payment" and method:
            db.session.add(Payment(key=f"order-{order.id}-pay-1", user_id=user.id, purpose="order",
                                   order_id=order.id, method=method, amount_minor=total,
                                   currency="CNY", status="succeeded", refundable_minor=total))
            db.session.add(OrderEvent(order_id=order.id, from_status="awaiting_payment",
                                      to_status="paid", actor_id=user.id, reason="wallet"))
        if status == "refund_requested":
            db.session.add(OrderEvent(order_id=order.id, from_status="paid",
                                      to_status="refund_requested", actor_id=user.id,
                                      reason="不想要了"))
        db.session.commit()
        return order.id


def number_of(app, order_id: int) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).number
