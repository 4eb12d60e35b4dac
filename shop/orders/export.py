"""The CSV export of the backoffice's order list: one row per order, its items summed up
in one cell. UTF-8 with a BOM (spreadsheet apps then read the Chinese right); money as
decimal text made from the integer minor units (never floats); text a spreadsheet would
take for a formula (a cell starting with =, +, -, @, a tab or a carriage return: a
nickname "=HYPERLINK(...)") is neutralised with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask_babel import format_datetime
from flask_babel import gettext as _

from shop.money import to_decimal
from shop.orders import STATUS_LABELS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def money(amount_minor: int, currency: str) -> str:
    """1250 CNY -> '12.50': exact, from the integer."""
    return format(to_decimal(amount_minor, currency), "f")


def header() -> list[str]:
    return [_("Order number"), _("Placed"), _("Status"), _("Customer"), _("Customer phone"),
            _("Customer email"), _("Recipient"), _("Recipient phone"), _("Address or store"),
            _("Items"), _("Units"), _("Currency"), _("Goods"), _("Shipping"), _("Discounts"),
            _("Total"), _("Refunded"), _("Paid by"), _("Carrier"), _("Tracking number")]


def row(item, method_labels: dict) -> list[str]:
    order, customer = item.order, item.customer
    lines = order.lines
    text = [order.number, format_datetime(order.created_at, "yyyy-MM-dd HH:mm"),
            str(STATUS_LABELS[order.status]),
            customer.nickname if customer else "", (customer.phone or "") if customer else "",
            (customer.email or "") if customer else "", order.ship_name, order.ship_phone,
            order.ship_address,
            "; ".join(f"{line.title} {line.sku_label} ×{line.quantity}".replace("  ", " ")
                      for line in lines)]
    amounts = [str(sum(line.quantity for line in lines)), order.currency,
               money(order.subtotal_minor, order.currency),
               money(sum(line.shipping_minor for line in lines), order.currency),
               money(sum(line.discount_minor for line in lines), order.currency),
               money(order.total_minor, order.currency),
               money(sum(line.refunded_minor for line in lines), order.currency)]
    methods = sorted({str(method_labels.get(p.method, p.method))
                      for p in item.payments if p.status == "succeeded"})
    tail = [" + ".join(methods), order.carrier or "", order.tracking_number or ""]
    return [neutral(cell) for cell in text] + amounts + [neutral(cell) for cell in tail]


def stream(batches: Iterable[list], method_labels: dict) -> Iterator[str]:
    """The CSV, a batch of orders at a time (the BOM and the header first)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutral(cell) for cell in header()])
    yield "\ufeff" + out.getvalue()
    for batch in batches:
        out.seek(0)
        out.truncate()
        writer.writerows(row(item, method_labels) for item in batch)
        yield out.getvalue()
