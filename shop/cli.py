"""`flask shop ...` commands. The CLI is an edge like a request: it commits."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from shop.db import db, utcnow

shop_cli = AppGroup("shop", help="Shop tasks: demo data and maintenance.")


@shop_cli.command("demo")
def demo_command():
    """Fill an empty database with the demo catalog and one account per role.

    Running it again changes nothing: every demo row has a natural key that is checked.
    """
    from shop.demo import load_demo

    created = load_demo()
    db.session.commit()
    if any(created.values()):
        click.echo("Demo data: " + ", ".join(f"{n} {what}" for what, n in created.items()))
    else:
        click.echo("Demo data already present; nothing changed.")


@shop_cli.command("sweep")
def sweep_command():
    """Perform every time-based transition that is due (idempotent: run it as often as
    you like). Today: cancel unpaid orders past their hold, returning their stock."""
    from shop.orders import services
    from shop.orders.models import Order

    cancelled = 0
    for order_id in services.expired_order_ids(utcnow()):
        try:
            services.cancel(db.session.get(Order, order_id), actor_id=None, reason="expired")
            db.session.commit()
            cancelled += 1
        except services.OrderError:  # paid or cancelled meanwhile
            db.session.rollback()
    click.echo(f"Cancelled {cancelled} expired unpaid orders.")
