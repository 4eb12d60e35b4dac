"""`flask shop ...` commands. The CLI is an edge like a request: it commits."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from shop.db import db

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


@shop_cli.command("reindex-search")
def reindex_search_command():
    """Rebuild the search index of every product (the catalogue keeps it up to date by
    itself; this is for rows written around the ORM, or after the tokenizer changed)."""
    from shop.search.indexing import reindex

    count = reindex(db.session.connection())
    db.session.commit()
    click.echo(f"Search index: {count} products.")


@shop_cli.command("sweep")
def sweep_command():
    """Perform every time-based transition that is due (idempotent: run it as often as
    you like): expired unpaid orders, unconfirmed card payments, pending refunds."""
    from shop.sweeper import sweep

    done = sweep()
    click.echo(", ".join(f"{what}: {n}" for what, n in done.items()))


@shop_cli.command("worker")
@click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
def worker_command(burst: bool):
    """Run background jobs from the Redis queue (needs REDIS_URL); also schedules the
    sweeper every SWEEP_SECONDS. Run one or more per machine."""
    from flask import current_app

    from shop.jobs import work

    if not current_app.config["REDIS_URL"]:
        raise click.UsageError("REDIS_URL is not set: without it jobs run inline and no worker is needed.")
    work(burst=burst)


@shop_cli.command("check-ledgers")
def check_ledgers_command():
    """Sum every ledger against its balance and print what differs; exits 1 if anything
    does (stock, wallets, points, growth, commissions, coupons, group seats, campaign and
    flash and mall stock, refunds of payments and order lines, order totals, bargains)."""
    from shop.ledgers import check

    found = check()
    for line in found:
        click.echo(line)
    if found:
        raise SystemExit(1)
    click.echo("Every ledger adds up to its balance.")


@shop_cli.command("account")
@click.argument("email")
@click.option("--disable", "active", flag_value=False, default=None,
              help="Disable the account: every session of it ends and it can not sign in.")
@click.option("--enable", "active", flag_value=True, help="Enable a disabled account again.")
def account_command(email: str, active: bool | None):
    """Disable or enable an account by its email (until the backoffice's customer page
    does it: issue 24). Without an option, shows whether it is active."""
    from shop.accounts import services as accounts

    user = accounts.user_by_email(email)
    if user is None:
        raise click.UsageError(f"No account with the email {email}.")
    if active is not None:
        accounts.set_active(user, active)
        db.session.commit()
    click.echo(f"{user.email} (#{user.id}, {user.role}): {'active' if user.active else 'disabled'}")
