"""Shared steps of the group-buy tests: a running campaign, a wallet topped up, a group
opened and paid, a seat joined, through the pages as a shopper uses them."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from shop.db import db
from shop.groups.models import Group, GroupMember
from shop.orders.models import Order
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import GroupCampaignFactory, GroupCampaignSkuFactory, product_with_skus


def campaign(*, size: int = 2, price: int = 990, leader_price: int | None = None,
             stock: int = 50, **kwargs) -> tuple[int, int]:
    """A running campaign of one SKU (normal price 19.90): (campaign_id, sku_id)."""
    product, (sku,) = product_with_skus(skus=(("红", 1990, stock),))
    made = GroupCampaignFactory(product_id=product.id, group_size=size, **kwargs)
    GroupCampaignSkuFactory(campaign_id=made.id, sku_id=sku.id, price_minor=price,
                            leader_price_minor=leader_price)
    return made.id, sku.id


def fund(app, user_id: int, amount: int, ref: str) -> None:
    from shop.wallet import services as wallet

    with app.app_context():
        wallet.move(user_id, amount, reason="t", ref_type="test", ref_id=ref)
        db.session.commit()


def seat_form(client, url: str, sku_id: int) -> dict:
    """The form as the page draws it; a fresh token where the page draws none (a
    shopper who may not join posting anyway)."""
    html = client.get(url).get_data(as_text=True)
    token = form_token(client, url) if 'name="token"' in html else uuid.uuid4().hex
    return dict(ADDRESS, sku_id=sku_id, token=token)


def order_id_of(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    return int(re.search(r"/orders/(\d+)$", response.headers["Location"]).group(1))


def pay_wallet(client, order_id: int):
    return client.post_form(f"/orders/{order_id}/pay/wallet")


def open_paid_group(app, campaign_id: int, sku_id: int, *, client=None, user=None,
                    price: int = 990) -> tuple[object, object, int]:
    """A shopper opens a group and pays from the wallet: (client, user, group_id)."""
    if client is None:
        client, user = signed_in(app)
    fund(app, user.id, price, f"lead-{user.id}-{campaign_id}")
    url = f"/group-buys/{campaign_id}"
    order_id = order_id_of(client.post_form(f"{url}/open", seat_form(client, url, sku_id)))
    assert pay_wallet(client, order_id).status_code == 302
    return client, user, group_of(app, order_id)


def join(client, group_id: int, sku_id: int):
    url = f"/groups/{group_id}"
    return client.post_form(f"{url}/join", seat_form(client, url, sku_id))


def group_of(app, order_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(GroupMember.group_id).where(GroupMember.order_id == order_id))


def group_state(app, group_id: int) -> dict:
    """The group's balances and its members' order statuses, read in a context of its own."""
    with app.app_context():
        group = db.session.get(Group, group_id)
        members = db.session.execute(
            select(GroupMember.user_id, GroupMember.status, Order.status, Order.hold)
            .join(Order, Order.id == GroupMember.order_id)
            .where(GroupMember.group_id == group_id).order_by(GroupMember.id)).all()
        return {"status": group.status, "seats_left": group.seats_left,
                "paid_count": group.paid_count, "version": group.version,
                "auto_completed": group.auto_completed,
                "members": [tuple(m) for m in members]}
