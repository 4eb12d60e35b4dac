"""Flash-sale burst on PostgreSQL: many signed-in buyers POST the purchase form of one
flash item at once; figures for each round, and the invariants read back from the
database (nothing oversold, no server error, the ledgers adding up). Prints figures;
not a test.

    .venv/bin/python bench/flash_sale.py [--buyers 2000] [--units 100] [--rounds 3]
                                         [--workers 4] [--concurrency 64]

Needs the project venv (gunicorn) and a PostgreSQL server on loopback where the user may
create databases (PG_SERVER, default postgresql://postgres@127.0.0.1:5432) with the
`createdb`/`dropdb` clients. Everything stays on 127.0.0.1:

1. Drops and recreates the scratch database `bench_flash` (--database), migrates it
   (`flask db upgrade`) and adds --buyers shoppers in one statement. Each gets a signed
   session cookie made in-process with the app's secret key (signed in, and holding its
   CSRF token), as tests/concurrency/http.py does: the sign-in form is rate limited.
2. Serves the shop (`wsgi:app`) with gunicorn -w --workers -k sync on a free port of
   127.0.0.1, without REDIS_URL (jobs inline, nothing sent to a shared Redis).
3. Each round: a new SKU with stock, a flash session on now and an item of it with
   --units of flash stock set aside (per-user limit 1); every buyer sends one purchase
   (its own one-use token) from a pool of --concurrency threads released at once.
   Counted: 303 (an order), 409 (refused: sold out), anything else, 5xx and connection
   errors; then from the database: orders, oversold = orders - units, the item's
   stock_left, and the sums of the flash stock ledger, the SKU's stock ledger and the
   buyers' counters.
4. Stops gunicorn and drops the database (--keep keeps it), also on Ctrl-C or an error.

Exit status 1 if a round broke an invariant (an error, something oversold, a ledger
that does not add up).
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import (CLK_TCK, cpu_ticks, flask_cmd, log, start_gunicorn, stop,  # noqa: E402
                         wait_until_up)

AGENT = "flash-sale-bench"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 1 号"}


def pg_client(server: urllib.parse.SplitResult, tool: str, *args: str) -> None:
    command = [tool, "-h", server.hostname or "127.0.0.1", "-p", str(server.port or 5432),
               "-U", server.username or "postgres", *args]
    env = {**os.environ, **({"PGPASSWORD": server.password} if server.password else {})}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed:\n{result.stderr}")


def scratch_environment(database: str, prefix: str):
    """For a benchmark on a scratch database of PG_SERVER (loopback only): the server's
    URL and parts, the shop's environment (a fresh secret, instance and media folders in
    a new temporary folder, no Redis) set on this process too, and that folder. Ctrl-C and
    SIGTERM end the run through its clean-up."""
    import signal

    server_url = os.environ.get("PG_SERVER", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    server = urllib.parse.urlsplit(server_url)
    if server.hostname not in LOOPBACK:
        sys.exit(f"PG_SERVER must be on loopback, not {server.hostname}")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(FLASK_APP="wsgi:app", DATABASE_URL=f"{server.scheme}://{server.netloc}/{database}",
               SECRET_KEY=secrets.token_hex(32), SHOP_INSTANCE_PATH=str(tmp / "instance"),
               MEDIA_ROOT=str(tmp / "media"))
    os.environ.pop("REDIS_URL", None)
    os.environ.update(env)  # shop.config reads it at import: import the shop only after this
    return server_url, server, env, tmp


def clean_up(app, server: urllib.parse.SplitResult, database: str, tmp: Path, *, keep: bool) -> None:
    """After a benchmark: close the app's connections (so the database can be dropped),
    drop the scratch database unless kept, and remove the temporary folder."""
    if app is not None:
        from shop.db import db

        with app.app_context():
            db.engine.dispose()
    if not keep:
        pg_client(server, "dropdb", "--if-exists", "--force", database)
    shutil.rmtree(tmp, ignore_errors=True)


def fresh_database(server: urllib.parse.SplitResult, name: str) -> None:
    pg_client(server, "dropdb", "--if-exists", "--force", name)
    pg_client(server, "createdb", name)


# --- data, in-process ---------------------------------------------------------------------


def make_buyers(app, n: int) -> list[int]:
    from sqlalchemy import insert, select

    from shop.accounts.models import User
    from shop.db import db

    with app.app_context():
        db.session.execute(insert(User), [
            {"email": f"flashbuyer{i}@example.com", "password_hash": "!", "nickname": f"买家{i}",
             "role": "shopper"} for i in range(n)])
        ids = db.session.scalars(select(User.id).where(User.email.like("flashbuyer%"))
                                 .order_by(User.id)).all()
        db.session.commit()
    return list(ids)


def signed_in(app, user_ids: list[int]) -> list[tuple[str, str]]:
    """(session cookie, CSRF form token) per buyer: the session Flask-Login and
    Flask-WTF would have made (its identity bound to 127.0.0.1 and AGENT, as the
    "strong" session protection checks), signed with the app's key."""
    from flask import session
    from flask_login.utils import _create_identifier
    from flask_wtf.csrf import generate_csrf

    serializer = app.session_interface.get_signing_serializer(app)
    made = []
    for user_id in user_ids:
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                      headers={"User-Agent": AGENT}):
            session.update({"_user_id": str(user_id), "_fresh": True, "_id": _create_identifier()})
            token = generate_csrf()  # puts its raw half in the session
            made.append((serializer.dumps(dict(session)), token))
    return made


def make_flash_item(app, round_no: int, units: int, sku_stock: int, admin_id: int,
                    category_id: int) -> tuple[int, int]:
    """A SKU with `sku_stock` (through the stock ledger), a flash session on now and an
    item of it at 9.90 with `units` set aside from the SKU. (item id, sku id)."""
    from shop.catalog.models import Product, Sku
    from shop.catalog.services import move_stock
    from shop.db import db, utcnow
    from shop.promotions import services
    from shop.promotions.models import FlashItem, FlashSession

    with app.app_context():
        product = Product(code=f"flash-bench-{round_no}", category_id=category_id,
                          title=f"秒杀商品 {round_no}", currency="CNY", price_minor=1990,
                          cost_price_minor=1000, status="on_sale")
        db.session.add(product)
        db.session.flush()
        sku = Sku(product_id=product.id, code=f"flash-bench-{round_no}", option_values=[],
                  price_minor=1990, stock=0)
        db.session.add(sku)
        db.session.flush()
        move_stock(sku.id, sku_stock, reason="restock", ref_type="bench", ref_id=str(round_no))
        now = utcnow()
        flash_session = FlashSession(name=f"Bench {round_no}", starts_at=now - timedelta(minutes=1),
                                     ends_at=now + timedelta(hours=2))
        db.session.add(flash_session)
        db.session.flush()
        item = FlashItem(session_id=flash_session.id, sku_id=sku.id, currency="CNY",
                         price_minor=990, allotted=0, stock_left=0, per_user_limit=1)
        db.session.add(item)
        db.session.flush()
        services.set_aside(item, units, actor_id=admin_id)
        db.session.commit()
        return item.id, sku.id


def admin_and_category(app) -> tuple[int, int]:
    from shop.accounts.models import User
    from shop.catalog.models import Category
    from shop.db import db

    with app.app_context():
        admin = User(email="flashadmin@example.com", password_hash="!", nickname="admin",
                     role="admin")
        category = Category(slug="flash-bench", name="秒杀")
        db.session.add_all([admin, category])
        db.session.commit()
        return admin.id, category.id


def database_figures(app, item_id: int, sku_id: int) -> dict:
    from sqlalchemy import func, select

    from shop.catalog.models import Sku, StockMovement
    from shop.db import db
    from shop.orders.models import Order
    from shop.promotions.models import FlashBuyer, FlashItem, FlashOrder, FlashStockEntry

    with app.app_context():
        def one(query):
            return db.session.scalar(query) or 0

        item = db.session.get(FlashItem, item_id)
        return {
            "orders": one(select(func.count()).select_from(FlashOrder).join(
                Order, Order.id == FlashOrder.order_id).where(
                FlashOrder.item_id == item_id, Order.kind == "flash")),
            "units_ordered": one(select(func.sum(FlashOrder.quantity)).where(FlashOrder.item_id == item_id)),
            "allotted": item.allotted,
            "stock_left": item.stock_left,
            "flash_ledger": one(select(func.sum(FlashStockEntry.delta)).where(FlashStockEntry.item_id == item_id)),
            "sold_entries": one(select(func.count()).select_from(FlashStockEntry).where(
                FlashStockEntry.item_id == item_id, FlashStockEntry.reason == "sold")),
            "buyers_held": one(select(func.sum(FlashBuyer.quantity)).where(FlashBuyer.item_id == item_id)),
            "sku_stock": db.session.get(Sku, sku_id).stock,
            "sku_ledger": one(select(func.sum(StockMovement.delta)).where(StockMovement.sku_id == sku_id)),
        }


# --- the burst -----------------------------------------------------------------------------


def warm_up(port: int, item_id: int, workers: int) -> None:
    """Each worker compiles the item page's templates and opens its database connection
    before the first round is timed (anonymous GETs of the item page)."""
    def get(_n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", f"/flash/items/{item_id}", headers={"User-Agent": AGENT})
        status = conn.getresponse().status
        conn.close()
        return status

    with ThreadPoolExecutor(workers * 2) as pool:
        statuses = set(pool.map(get, range(workers * 8)))
    if statuses != {200}:
        sys.exit(f"the flash item page answered {statuses}")


def burst(port: int, item_id: int, buyers: list[tuple[str, str]], concurrency: int,
          master: int) -> dict:
    """Every buyer's purchase, from `concurrency` threads released at once."""
    path = f"/flash/items/{item_id}/buy"
    go = threading.Event()
    lock = threading.Lock()
    codes: dict[str, int] = {}
    latencies: list[float] = []

    def attempt(cookie: str, csrf: str) -> None:
        body = urllib.parse.urlencode(dict(ADDRESS, csrf_token=csrf, token=uuid.uuid4().hex,
                                           quantity="1"))
        go.wait()
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", path, body, {
                "Cookie": f"session={cookie}", "User-Agent": AGENT, "Accept-Language": "en",
                "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            conn.close()
            outcome = str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            outcome = f"error: {type(exc).__name__}"
        elapsed = time.perf_counter() - started
        with lock:
            codes[outcome] = codes.get(outcome, 0) + 1
            latencies.append(elapsed)

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(attempt, cookie, csrf) for cookie, csrf in buyers]
        time.sleep(0.5)  # the first `concurrency` threads are waiting at the start line
        ticks, started = cpu_ticks(master), time.perf_counter()
        go.set()
        for future in futures:
            future.result()
        duration = time.perf_counter() - started
        cpu_ms = 1000 * (cpu_ticks(master) - ticks) / CLK_TCK / len(buyers)
    latencies.sort()
    return {"codes": codes, "duration": duration, "cpu_ms": cpu_ms,
            "p50": 1000 * statistics.median(latencies),
            "p99": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}


def check(result: dict, db: dict, attempts: int, units: int, sku_stock: int) -> list[str]:
    codes = result["codes"]
    problems = []
    errors = sum(n for c, n in codes.items() if c.startswith("error") or c.startswith("5"))
    others = sum(n for c, n in codes.items() if c not in ("303", "409") and not
                 (c.startswith("error") or c.startswith("5")))
    if errors:
        problems.append(f"{errors} server or connection errors")
    if others:
        problems.append(f"unexpected answers: {codes}")
    if db["orders"] > units:
        problems.append(f"OVERSOLD by {db['orders'] - units}")
    if codes.get("303", 0) != db["orders"]:
        problems.append(f"{codes.get('303', 0)} purchases answered 303 but {db['orders']} orders")
    if attempts >= units and db["orders"] != units:
        problems.append(f"{db['orders']} orders for {units} units and {attempts} attempts")
    if db["stock_left"] != units - db["units_ordered"]:
        problems.append(f"stock_left {db['stock_left']} != {units} - {db['units_ordered']}")
    if db["flash_ledger"] != db["stock_left"] or db["sold_entries"] != db["orders"]:
        problems.append(f"flash ledger sums to {db['flash_ledger']} with {db['sold_entries']} sales")
    if db["buyers_held"] != db["units_ordered"]:
        problems.append(f"buyers hold {db['buyers_held']} units, orders {db['units_ordered']}")
    if not db["sku_stock"] == db["sku_ledger"] == sku_stock - units:
        problems.append(f"SKU stock {db['sku_stock']}, its ledger {db['sku_ledger']}, "
                        f"expected {sku_stock - units}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--database", default="bench_flash")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    server_url, server, env, tmp = scratch_environment(args.database, "shop-bench-flash-")
    app = proc = None
    rows, failed, log_tail = [], False, ""
    try:
        fresh_database(server, args.database)
        log(f"database {args.database} recreated")
        flask_cmd(env, "db", "upgrade")
        from shop import create_app

        app = create_app()
        admin_id, category_id = admin_and_category(app)
        started = time.perf_counter()
        buyer_ids = make_buyers(app, args.buyers)
        buyers = signed_in(app, buyer_ids)
        log(f"{len(buyers)} buyers with session cookies in {time.perf_counter() - started:.1f}s")
        proc, base = start_gunicorn("wsgi:app", args.workers, env, tmp / "gunicorn.log")
        wait_until_up(proc, base, tmp / "gunicorn.log")
        port = int(base.rsplit(":", 1)[1])
        sku_stock = args.units * 3
        for round_no in range(1, args.rounds + 1):
            item_id, sku_id = make_flash_item(app, round_no, args.units, sku_stock, admin_id,
                                              category_id)
            log(f"round {round_no}/{args.rounds}: {len(buyers)} buyers for {args.units} units "
                f"of item {item_id}")
            if round_no == 1:
                warm_up(port, item_id, args.workers)
            result = burst(port, item_id, buyers, args.concurrency, proc.pid)
            figures = database_figures(app, item_id, sku_id)
            problems = check(result, figures, len(buyers), args.units, sku_stock)
            failed = failed or bool(problems)
            rows.append((round_no, result, figures, problems))
        log_tail = (tmp / "gunicorn.log").read_text()[-3000:] if failed else ""
    finally:
        if proc is not None:
            stop(proc)
        clean_up(app, server, args.database, tmp, keep=args.keep)

    print(f"\nFlash sale: {args.buyers} buyers, one purchase each, for {args.units} units; "
          f"gunicorn -w {args.workers} -k sync on PostgreSQL, {args.concurrency} client threads")
    print(f"{'round':>5}{'attempts':>10}{'secs':>8}{'att/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'CPU ms':>7}{'ok 303':>8}{'409':>6}{'other':>6}{'errors':>7}{'orders':>7}{'oversold':>9}"
          f"{'left':>5}{'ledgers':>8}")
    for round_no, result, figures, problems in rows:
        codes = result["codes"]
        errors = sum(n for c, n in codes.items() if c.startswith("error") or c.startswith("5"))
        other = sum(codes.values()) - codes.get("303", 0) - codes.get("409", 0) - errors
        ledgers = "ok" if not any("ledger" in p or "stock" in p or "hold" in p for p in problems) else "BAD"
        print(f"{round_no:>5}{sum(codes.values()):>10}{result['duration']:>8.2f}"
              f"{sum(codes.values()) / result['duration']:>8.0f}{result['p50']:>8.0f}{result['p99']:>8.0f}"
              f"{result['cpu_ms']:>7.1f}{codes.get('303', 0):>8}{codes.get('409', 0):>6}{other:>6}{errors:>7}"
              f"{figures['orders']:>7}{figures['orders'] - args.units:>9}{figures['stock_left']:>5}"
              f"{ledgers:>8}")
        for problem in problems:
            print(f"  PROBLEM round {round_no}: {problem}")
    print("CPU ms: the gunicorn master's and workers' CPU time per attempt (PostgreSQL's and the "
          "client's not counted; they share the machine)")
    print("ledgers: flash stock entries sum to stock_left, one 'sold' entry per order, the buyers' "
          "counters to the units ordered, the SKU's stock movements to its stock")
    if failed:
        print(f"\ngunicorn log (tail):\n{log_tail}")
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; gunicorn stopped, database dropped, temp dir removed")
