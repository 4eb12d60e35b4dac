"""CSV exports of the dashboard's tables. Text that a spreadsheet would read as a formula
(a cell starting with =, +, -, @, a tab or a carriage return: a product called
"=HYPERLINK(...)") is neutralised with a leading apostrophe; numbers are written as
numbers (money in major units, from integers, never floats)."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from shop.analytics import SOURCE_LABELS
from shop.analytics.services import Dashboard
from shop.money import to_decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Number:
    """A number already written out (money with its decimals): written as it is, never
    taken for text to neutralise (a refund written -12.50 stays a number)."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


def neutral(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table(board: Dashboard, name: str) -> tuple[list[str], list[list]]:
    def money(minor: int) -> Number:
        return Number(format(to_decimal(minor, board.currency), "f"))

    if name == "daily":
        return ([_("Day"), _("Visitors"), _("Page views"), _("Orders"), _("Paid orders"),
                 _("GMV") + f" ({board.currency})"],
                [[d.day.isoformat(), d.visitors, d.page_views, d.orders, d.paid_orders,
                  money(d.gmv_minor)] for d in board.days])
    if name == "sources":
        return ([_("Source"), _("Accounts"), _("Customers"), _("Paid orders"),
                 _("Revenue") + f" ({board.currency})", _("LTV") + f" ({board.currency})"],
                [[str(SOURCE_LABELS[s.source]), s.accounts, s.customers, s.orders,
                  money(s.revenue_minor), money(s.ltv_minor)] for s in board.sources])
    if name == "products":
        return ([_("Product"), _("Units"), _("Orders"), _("Revenue") + f" ({board.currency})"],
                [[p.name, p.units, p.orders, money(p.revenue_minor)] for p in board.products])
    if name == "articles":
        return ([_("Article"), _("Views"), _("Orders"), _("GMV") + f" ({board.currency})"],
                [[a.name, a.views, a.orders, money(a.revenue_minor)] for a in board.articles])
    if name == "distributors":
        return ([_("Distributor"), _("Orders"), _("GMV") + f" ({board.currency})",
                 _("Commission") + f" ({board.currency})"],
                [[d.name, d.orders, money(d.revenue_minor), money(d.commission_minor)]
                 for d in board.distributors])
    return ([_("Coupon"), _("Claimed"), _("Used"), _("Discount") + f" ({board.currency})",
             _("GMV") + f" ({board.currency})"],
            [[c.name, c.claimed, c.uses, money(c.discount_minor), money(c.gmv_minor)]
             for c in board.coupons])


def csv_text(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutral(cell) for cell in header])
    writer.writerows([neutral(cell) for cell in row] for row in rows)
    return "\ufeff" + out.getvalue()  # the BOM: spreadsheet apps then read UTF-8 Chinese
