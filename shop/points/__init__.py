"""Points (积分), daily sign-in, tasks and the points mall (积分商城).

Points are earned on paid orders, by signing in every day and by tasks; they are spent
as a deduction at checkout or in the points mall. Every change is a PointsEntry with a
unique business reference and moves the cached balance in the same statement; earned
points come in lots that expire by the admin's rule, oldest first. The rules are in
services.py and the README.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

@dataclass(frozen=True)
class Task:
    code: str
    period: str  # "once" (newbie tasks), "day", "week" or "month"
    points: int  # until an admin sets them
    title: object
    hint: object


TASKS = {task.code: task for task in (
    Task("profile", "once", 20, _l("Complete your profile"),
         _l("Add a nickname, a mobile number and a photo.")),
    Task("first_order", "once", 50, _l("Place your first order"), _l("Pay for any order.")),
    Task("first_share", "once", 20, _l("Share for the first time"),
         _l("Share a page; it counts when a signed-in friend opens your link.")),
    Task("invite_buyer", "once", 100, _l("Invite a friend who buys"),
         _l("A friend who came through your link pays for an order.")),
    Task("daily_share", "day", 5, _l("Share today"),
         _l("A signed-in friend opens a link you shared today.")),
    Task("weekly_order", "week", 20, _l("Shop this week"), _l("Pay for an order this week.")),
)}
PERIOD_LABELS = {"once": _l("Newcomer task"), "day": _l("Every day"), "week": _l("Every week"),
                 "month": _l("Every month")}
EXPIRY_RULE_LABELS = {"never": _l("Never"),
                      "end_of_next_year": _l("At the end of the next calendar year"),
                      "days": _l("A number of days after they were earned")}
# Why points moved, as the history shows it.
REASON_LABELS = {
    "order": _l("Earned on an order"), "order_refund": _l("Refund: earned points taken back"),
    "spend": _l("Used on an order"), "spend_return": _l("Refund: used points returned"),
    "spend_cancel": _l("Order cancelled: used points returned"),
    "signin": _l("Daily sign-in"), "task": _l("Task reward"), "expiry": _l("Expired"),
    "adjustment": _l("Adjusted by the shop"),
}
