"""Shared steps of the group-buy tests: a running campaign, a wallet topped up, a group
opened and paid, a seat joined, through the pages as a shopper uses them."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from shop.db import db
from shop.groups.models import Group, GroupMember
from shop.orders.models import Order
from shop.payments.models import Payment
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


def order_id_of(response, app=None) -> int:
    """The order a seat's POST made: from its page's address, or (`app` given) from the
    card payment it led straight to (a wallet-less shopper with cards on)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    location = response.headers["Location"]
    paying = re.search(r"/payments/(\d+)$", location)
    if paying and app is not None:
        with app.app_context():
            return db.session.get(Payment, int(paying.group(1))).order_id
    return int(re.search(r"/orders/(\d+)$", location).group(1))


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


# --- the deadline, settling, card payments, balances (test_settle, test_progress, races) ---


def set_deadline(app, group_id: int, seconds: float) -> None:
    """Move an open group's deadline to `seconds` from now (negative: already past)."""
    from datetime import timedelta

    from shop.db import utcnow

    with app.app_context():
        db.session.get(Group, group_id).expires_at = utcnow() + timedelta(seconds=seconds)
        db.session.commit()


def settle_now(app, group_id: int) -> bool:
    """Run settle() as its job does: its own transaction, committed, then the jobs the
    commit made due (card refunds to Stripe)."""
    from shop.groups import services
    from shop.jobs import run_inline

    with app.app_context():
        done = services.settle(group_id)
        db.session.commit()
        run_inline()
        return done


def sweep_now(app) -> dict:
    from shop.sweeper import sweep

    with app.app_context():
        return sweep()


def join_held(app, group_id: int, sku_id: int) -> tuple[object, object, int]:
    """A new shopper takes a seat in the group and does not pay: (client, user, order_id)."""
    client, user = signed_in(app)
    return client, user, order_id_of(join(client, group_id, sku_id), app)


def join_paid(app, group_id: int, sku_id: int, price: int = 990) -> tuple[object, object, int]:
    """A new shopper takes a seat and pays it from the wallet: (client, user, order_id)."""
    client, user, order_id = join_held(app, group_id, sku_id)
    fund(app, user.id, price, f"join-{user.id}-{group_id}")
    response = pay_wallet(client, order_id)
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    return client, user, order_id


def start_card_payment(client, order_id: int) -> int:
    """Press "Pay by card" on the order page: the card payment's id."""
    response = client.post_form(f"/orders/{order_id}/pay/card")
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    return int(re.search(r"/payments/(\d+)", response.headers["Location"]).group(1))


def confirm_card(client, payment_id: int, localstripe_url: str):
    """Type a good card into the payment page (confirmed against localstripe)."""
    from tests.payments.helpers import card_id

    return client.post_form(f"/payments/{payment_id}/card",
                            {"payment_method": card_id(localstripe_url)})


def pay_card(client, order_id: int, localstripe_url: str) -> int:
    """Pay the order by card; the card payment's id."""
    payment_id = start_card_payment(client, order_id)
    response = confirm_card(client, payment_id, localstripe_url)
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    return payment_id


def balances(app, *, campaign_id: int, sku_id: int, user_ids=()) -> dict:
    """What a settle or a refusal may move: campaign units, SKU stock, wallets, and the
    counts of orders, refunds, payments and ledger rows."""
    from sqlalchemy import func

    from shop.catalog.models import Sku, StockMovement
    from shop.groups.models import CampaignUnitEntry, GroupCampaign, GroupSeatEntry
    from shop.payments.models import Payment, Refund
    from shop.wallet import services as wallet
    from shop.wallet.models import WalletEntry

    def rows(model):
        return db.session.scalar(select(func.count()).select_from(model))

    with app.app_context():
        return {"units_left": db.session.get(GroupCampaign, campaign_id).units_left,
                "stock": db.session.get(Sku, sku_id).stock,
                "wallets": {uid: wallet.balance(uid) for uid in user_ids},
                "orders": rows(Order), "refunds": rows(Refund), "payments": rows(Payment),
                "unit_entries": rows(CampaignUnitEntry), "seat_entries": rows(GroupSeatEntry),
                "stock_movements": rows(StockMovement), "wallet_entries": rows(WalletEntry),
                "members": rows(GroupMember)}
