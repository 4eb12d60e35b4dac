"""The sweeper: every time-based transition, idempotent, safe to run anywhere at any
time (`flask shop sweep`, and the job worker schedules it every SWEEP_SECONDS).

- unpaid orders past their hold are cancelled (stock and wallet parts come back);
- card payments still pending after a few minutes are checked with Stripe, in case a
  webhook never arrived;
- card refunds still pending (Stripe was unreachable when the job ran) are sent again;
- commissions past the refund window settle (shop.referrals);
- points lots past their expiry expire (shop.points);
- bargains still live (not bought) past their time expire (shop.bargains);
- group buys past their deadline settle: complete, or failed (shop.groups); then each of
  their seats left unsettled (a job lost) is refunded, cancelled or released;
- flash-sale items whose session has ended give what is left back to the SKUs.
- closed days are rolled up into the business data's day figures, and paid orders are
  added to their products' sales counts and the rankings (shop.analytics);
- shipped orders nobody confirmed receiving within the days an admin set complete
  themselves (shop.orders.services.auto_complete).
Each item commits on its own, so one failure does not hold back the rest.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from shop.db import db, utcnow
from shop.jobs import run_inline


def _each(ids, action) -> int:
    done = 0
    for item_id in ids:
        try:
            result = action(item_id)  # False: nothing was due after all (what it read still commits)
            db.session.commit()
            run_inline()
            done += result is not False
        except Exception as exc:  # noqa: BLE001 - one item must not stop the sweep
            db.session.rollback()
            current_app.logger.warning("sweep: %s(%s) failed: %s", action.__name__, item_id, exc)
    return done


def sweep() -> dict[str, int]:
    from shop.analytics import services as analytics
    from shop.bargains import services as bargains
    from shop.orders import services as orders
    from shop.payments import services as payments
    from shop.groups import services as groups
    from shop.points import services as points
    from shop.promotions import services as promotions
    from shop.referrals import services as referrals

    now = utcnow()

    def cancel_expired(order_id):
        # the shopper's own cancel takes the same path (a late card payment read first)
        return orders.release_unpaid(order_id, actor_id=None, reason="expired")

    def complete_shipped(order_id):
        return orders.auto_complete(order_id, now)

    return {
        "orders_cancelled": _each(orders.expired_order_ids(now), cancel_expired),
        "payments_checked": _each(payments.pending_card_payment_ids(now - timedelta(minutes=3)),
                                  payments.sync),
        "refunds_retried": _each(payments.pending_refund_ids(now - timedelta(minutes=1)),
                                 payments.send_refund),
        "commissions_settled": _each(referrals.due_commission_ids(now), referrals.settle),
        "points_expired": _each(points.expired_lot_ids(now), points.expire),
        "bargains_expired": _each(bargains.expired_bargain_ids(now), bargains.expire),
        "groups_settled": _each(groups.due_group_ids(now), groups.settle),
        "group_seats_settled": _each(groups.unsettled_seat_ids(), groups.settle_seat),
        "flash_released": _each(promotions.ended_item_ids(now), promotions.release),
        "orders_completed": _each(orders.completion_due_ids(now), complete_shipped),
        "days_rolled_up": _each(analytics.days_to_roll_up(now), analytics.roll_up_day),
        "sales_counted": _each(analytics.uncounted_order_ids(), analytics.count_sales),
    }
