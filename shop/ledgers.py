"""Every ledger summed against its balance (`flask shop check-ledgers`, and the tests after
each test): a balance column is only ever changed together with a ledger row, from the
first row on (an opening row where a balance starts above zero), so the sum of the rows
is the balance, always. check() returns what differs, one line each; nothing when all
agree. It reads and never writes; it stands above every domain (it imports their models)
and no domain imports it.

What is checked:
- stock: a SKU's stock = its stock movements;
- wallet: a wallet's balance = its entries;
- points: an account's balance = its entries, and its lots' remaining points = the
  balance (nothing while in debt);
- growth: a member's growth = their growth entries;
- commissions: a distributor's pending and withdrawable balances = their entries in each
  bucket; a commission's reversed amount = its refund entries;
- coupons (limited): remaining = the coupon's entries;
- group seats, group campaign units, flash stock, points-mall stock: each counter = its
  entries;
- payments: what a succeeded payment has refunded (its amount less what it can still
  refund) = its refunds;
- order lines: what a line has refunded = its refund rows; and an order's lines' paid
  amounts add up to its total;
- bargains: the price = the start price less the cuts.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, func, literal, select, union_all

from shop.db import db


def _sums(column, key, where=()) -> dict:
    return {k: int(v or 0) for k, v in db.session.execute(
        select(key, func.sum(column)).where(*where).group_by(key)).all()}


def _compare(name: str, balances: Iterable[tuple], sums: dict, *, default: int = 0) -> list[str]:
    """balances: (id, balance) rows; sums: id -> sum of its ledger (missing: default)."""
    found = []
    seen = set()
    for key, balance in balances:
        seen.add(key)
        total = sums.get(key, default)
        if balance != total:
            found.append(f"{name} {key}: balance {balance}, ledger {total}")
    for key in sorted(set(sums) - seen, key=str):
        if sums[key]:
            found.append(f"{name} {key}: no balance row, ledger {sums[key]}")
    return found


def check() -> list[str]:
    """What differs between the balances and their ledgers (empty: all agree)."""
    from shop.bargains.models import Bargain, BargainHelp
    from shop.catalog.models import Sku, StockMovement
    from shop.groups.models import CampaignUnitEntry, Group, GroupCampaign, GroupSeatEntry
    from shop.members.models import GrowthEntry, Member
    from shop.orders.models import Order, OrderLine, OrderLineRefund
    from shop.payments.models import Payment, Refund
    from shop.points.models import MallItem, MallStockEntry, PointsAccount, PointsEntry, PointsLot
    from shop.promotions.models import Coupon, CouponEntry, FlashItem, FlashStockEntry
    from shop.referrals.models import Commission, CommissionEntry, Distributor
    from shop.wallet.models import Wallet, WalletEntry

    rows = db.session.execute
    # A balance and its ledger that both hold no row agree: only the pairs with rows are
    # read (one query finds them), so a check of a nearly empty shop costs a few queries.
    models = (Sku, StockMovement, Wallet, WalletEntry, PointsAccount, PointsEntry, PointsLot,
              Member, GrowthEntry, Distributor, CommissionEntry, Commission, Coupon,
              CouponEntry, Group, GroupSeatEntry, GroupCampaign, CampaignUnitEntry, FlashItem,
              FlashStockEntry, MallItem, MallStockEntry, Payment, Refund, Order, OrderLine,
              OrderLineRefund, Bargain, BargainHelp)
    held = set(db.session.scalars(union_all(*(
        select(literal(model.__tablename__)).where(exists().select_from(model))
        for model in models))))

    def rows_in(*pair) -> bool:
        return any(model.__tablename__ in held for model in pair)

    found: list[str] = []
    if rows_in(Sku, StockMovement):
        found += _compare("stock of SKU", rows(select(Sku.id, Sku.stock)),
                          _sums(StockMovement.delta, StockMovement.sku_id))
    if rows_in(Wallet, WalletEntry):
        found += _compare("wallet of user", rows(select(Wallet.user_id, Wallet.balance_minor)),
                          _sums(WalletEntry.amount_minor, WalletEntry.user_id))
    if rows_in(PointsAccount, PointsEntry, PointsLot):
        accounts = rows(select(PointsAccount.user_id, PointsAccount.balance)).all()
        found += _compare("points of user", accounts, _sums(PointsEntry.amount, PointsEntry.user_id))
        found += _compare("points lots of user", [(u, max(b, 0)) for u, b in accounts],
                          _sums(PointsLot.remaining, PointsLot.user_id))
    if rows_in(Member, GrowthEntry):
        found += _compare("growth of member", rows(select(Member.user_id, Member.growth)),
                          _sums(GrowthEntry.amount, GrowthEntry.user_id))
    if rows_in(Distributor, CommissionEntry, Commission):
        for bucket, column in (("pending", Distributor.pending_minor),
                               ("balance", Distributor.balance_minor)):
            found += _compare(f"commission {bucket} of user",
                              rows(select(Distributor.user_id, column)),
                              _sums(CommissionEntry.amount_minor, CommissionEntry.user_id,
                                    [CommissionEntry.bucket == bucket]))
        reversed_by = {}
        for ref_id, amount in rows(select(CommissionEntry.ref_id, CommissionEntry.amount_minor)
                                   .where(CommissionEntry.ref_type == "refund")):
            commission_id = int(ref_id.split("-", 1)[0])
            reversed_by[commission_id] = reversed_by.get(commission_id, 0) - amount
        found += _compare("reversed of commission",
                          rows(select(Commission.id, Commission.reversed_minor)), reversed_by)
    if rows_in(Coupon, CouponEntry):
        found += _compare("remaining of coupon", rows(select(Coupon.id, Coupon.remaining)
                                                      .where(Coupon.remaining.is_not(None))),
                          _sums(CouponEntry.delta, CouponEntry.coupon_id,
                                [CouponEntry.coupon_id.in_(select(Coupon.id).where(
                                    Coupon.remaining.is_not(None)))]))
    if rows_in(Group, GroupSeatEntry):
        found += _compare("seats of group", rows(select(Group.id, Group.seats_left)),
                          _sums(GroupSeatEntry.delta, GroupSeatEntry.group_id))
    if rows_in(GroupCampaign, CampaignUnitEntry):
        found += _compare("units of group campaign",
                          rows(select(GroupCampaign.id, GroupCampaign.units_left)),
                          _sums(CampaignUnitEntry.delta, CampaignUnitEntry.campaign_id))
    if rows_in(FlashItem, FlashStockEntry):
        found += _compare("flash stock of item", rows(select(FlashItem.id, FlashItem.stock_left)),
                          _sums(FlashStockEntry.delta, FlashStockEntry.item_id))
    if rows_in(MallItem, MallStockEntry):
        found += _compare("stock of mall item", rows(select(MallItem.id, MallItem.stock)),
                          _sums(MallStockEntry.delta, MallStockEntry.item_id))
    if rows_in(Payment, Refund):
        succeeded = select(Payment.id).where(Payment.status == "succeeded")
        found += _compare("refunded of payment",
                          [(pid, amount - refundable) for pid, amount, refundable in rows(
                              select(Payment.id, Payment.amount_minor, Payment.refundable_minor)
                              .where(Payment.status == "succeeded"))],
                          _sums(Refund.amount_minor, Refund.payment_id,
                                [Refund.payment_id.in_(succeeded)]))
    if rows_in(OrderLine, OrderLineRefund):
        found += _compare("refunded of order line",
                          rows(select(OrderLine.id, OrderLine.refunded_minor)),
                          _sums(OrderLineRefund.amount_minor, OrderLineRefund.order_line_id))
        found += _compare("total of order", rows(select(Order.id, Order.total_minor)
                                                 .where(Order.id.in_(select(OrderLine.order_id)))),
                          _sums(OrderLine.paid_minor, OrderLine.order_id))
    if rows_in(Bargain, BargainHelp):
        found += _compare("price of bargain",
                          [(b, start - price) for b, start, price in rows(
                              select(Bargain.id, Bargain.start_price_minor, Bargain.price_minor))],
                          _sums(BargainHelp.amount_minor, BargainHelp.bargain_id))
    return found
