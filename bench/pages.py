"""Page benchmark: throughput, latency and CPU per request under gunicorn + wrk, SQL
queries per page, and the product page's first-view weight. Prints figures; not a test.

    .venv/bin/python bench/pages.py [--workers 2] [--duration 10] [--connections 8]

Standard library only, plus the shop itself. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # run with the project venv's python
CLK_TCK = os.sysconf("SC_CLK_TCK")
SHARE_TARGET, QUERY_TARGET, WEIGHT_TARGET = 20.0, 6, 30_000  # %, queries, bytes (30 KB)


def log(msg: str) -> None:
    print(f"-- {msg}", file=sys.stderr, flush=True)


def flask_cmd(env: dict, *args: str) -> None:
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"`flask {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    lines = result.stdout.strip().splitlines()
    log(f"flask {' '.join(args)}: {lines[-1] if lines else 'ok'}")


def ids_in(html: str, prefix: str) -> list[int]:
    """Unique ids of links like href="/p/12", in page order."""
    return list(dict.fromkeys(int(i) for i in re.findall(rf'href="{prefix}(\d+)[?"]', html)))


def demo_instance(prefix: str) -> tuple[Path, dict]:
    """A throw-away shop with the demo data: (temp dir, environment). SQLite in the temp
    dir, or DATABASE_URL if set (migrated and given the demo data, which is idempotent).
    Ctrl-C and kill raise, so the caller's `finally` stops servers and removes the dir."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C: KeyboardInterrupt
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # kill: clean up all the same
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "FLASK_APP": "wsgi:app"}
    if not env.get("DATABASE_URL"):
        env["SHOP_INSTANCE_PATH"] = str(tmp / "instance")
    os.environ.update(env)  # shop.config reads it at import: import the shop only now
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    flask_cmd(env, "db", "upgrade")
    flask_cmd(env, "shop", "demo")
    return tmp, env


def discover(app) -> tuple[str, str]:
    """A top-level category with the most products on sale, and a product from home."""
    from shop.catalog import services

    with app.app_context():
        totals = {c.id: services.list_products(category=c, per_page=1).total
                  for c in services.top_categories()}
    home = app.test_client().get("/").get_data(as_text=True)
    products = ids_in(home, "/p/")
    if not totals or max(totals.values()) == 0 or not products:
        sys.exit("No category with products, or no product linked from home: demo data missing?")
    return f"/c/{max(totals, key=totals.get)}", f"/p/{products[0]}"


# --- SQL statements per page (in-process) ---------------------------------------------


def count_queries(app, url: str, client=None, headers=None) -> dict:
    """Statements one GET of `url` executes with the fragment cache empty (cold: what a
    page costs to build) and again with it filled (warm: what most requests cost)."""
    from flask import got_request_exception
    from sqlalchemy import event

    from shop.db import db
    from shop.extensions import cache

    client = client or app.test_client()
    statements: list[str] = []
    errors: list[str] = []
    with app.app_context():
        engine = db.engine
    app.logger.disabled = True  # an error shows as one line in the table, not a traceback
    def listener(conn, cursor, stmt, *rest):
        # Transaction control is not a query: on SQLite the shop sends BEGIN itself
        # (shop/db.py), where PostgreSQL's driver does it implicitly.
        if not stmt.lstrip().upper().startswith("BEGIN"):
            statements.append(stmt)

    on_error = lambda sender, exception, **kw: errors.append(repr(exception))  # noqa: E731
    client.get(url, headers=headers)  # warm-up: connections, compiled statements
    counts = []
    event.listen(engine, "before_cursor_execute", listener)
    got_request_exception.connect(on_error, app)
    try:
        for clear in (True, False):
            if clear:
                with app.app_context():
                    cache.clear()
            statements.clear()
            response = client.get(url, headers=headers)
            counts.append(len(statements))
            if os.environ.get("BENCH_SHOW_SQL"):
                print(f"\n{url} ({'cold' if clear else 'warm'}):", *statements, sep="\n  ")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        got_request_exception.disconnect(on_error, app)
    html = response.get_data(as_text=True)
    return {"n": counts[0], "warm": counts[1], "status": response.status_code,
            "shown": len(ids_in(html, "/p/")), "error": errors[-1] if errors else ""}


def add_listing_products(create_app, category_url: str, n: int = 40) -> None:
    """Put n more products (one SKU and one picture each) in the benchmarked category so
    the listing rows below can show 5 to 40 products. Only in the bench's own database."""
    from PIL import Image

    from shop.catalog import services
    from shop.db import db
    from shop.media.services import save_pixels

    app = create_app()
    category_id = int(category_url.rsplit("/", 1)[1])
    with app.test_request_context():
        for i in range(n):
            data = services.ProductData(
                title=f"基准商品 {i}", subtitle="", selling_points="", description="",
                category_id=category_id, cost_price_minor=500, status="on_sale",
                featured=False, option_names=[], translations={"en": {"title": f"Bench {i}"}})
            row = services.SkuRow(id=None, code=f"bench-{i}", option_values=[],
                                  price_minor=1000 + i, stock=10, stock_seen=0)
            product = services.save_product(None, data, [row], currency="CNY", actor_id=None)
            services.add_image(product, save_pixels(Image.new("RGB", (240, 240), (i * 5, 90, 160))))
        db.session.commit()


def signed_in_client(app, headers: dict):
    """A test client signed in as a shopper (else the first user), or None."""
    from flask_login.utils import _create_identifier
    from sqlalchemy import select

    from shop.accounts.models import User
    from shop.db import db

    with app.app_context():
        user_id = db.session.scalar(select(User.id).order_by(User.role != "shopper", User.id).limit(1))
    if user_id is None:
        return None
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base, headers=headers):
        ident = _create_identifier()  # what "strong" session protection checks
    with client.session_transaction() as sess:
        sess.update({"_user_id": str(user_id), "_fresh": True, "_id": ident})
    return client if client.get("/me", headers=headers).status_code == 200 else None


def sql_figures(create_app, pages: dict[str, str]) -> list[tuple[str, dict | None]]:
    """[(label, count_queries() result or None when skipped)]."""
    app = create_app()
    rows = [(f"{name} {url}", count_queries(app, url)) for name, url in pages.items()]
    for size in (5, 10, 20, 40):
        rows.append((f"category, PAGE_SIZE={size}",
                     count_queries(create_app({"PAGE_SIZE": size}), pages["category"])))
    headers = {"User-Agent": "shop-bench"}
    client = signed_in_client(app, headers)
    if client is None:
        return rows + [("signed in: skipped (no user, or the session was refused)", None)]
    return rows + [(f"{name}, signed in", count_queries(app, url, client, headers))
                   for name, url in pages.items()]


# --- servers and wrk --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app_spec: str, workers: int, env: dict, logfile: Path):
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--error-logfile", str(logfile), app_spec],
        cwd=ROOT, env=env, start_new_session=True,  # Ctrl-C reaches us; we stop it
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_until_up(proc, base: str, logfile: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(base + "/", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    tail = logfile.read_text()[-2000:] if logfile.exists() else ""
    raise RuntimeError(f"gunicorn at {base} did not answer within {timeout}s\n{tail}")


def stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def cpu_ticks(master: int) -> int:
    """utime+stime of the master and its children, plus the master's reaped children."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as file:
                f = file.read().rsplit(")", 1)[1].split()  # f[0] is field 3 (state)
        except OSError:  # the process ended meanwhile
            continue
        if int(pid) == master:
            total += sum(map(int, f[11:15]))  # utime stime cutime cstime (exited workers)
        elif int(f[1]) == master:  # f[1]: ppid
            total += int(f[11]) + int(f[12])
    return total


def status_of(url: str) -> int:
    """The status of one GET, redirects not followed (wrk cannot tell 3xx from 2xx)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    try:
        return urllib.request.build_opener(NoRedirect).open(url, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def run_wrk(url: str, seconds: int, connections: int, master: int,
            headers: tuple[str, ...] = ()) -> dict:
    threads = min(2, connections)
    cmd = ["/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
           *(arg for header in headers for arg in ("-H", header)), url]
    before = cpu_ticks(master)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    ticks = cpu_ticks(master) - before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "cpu_ms": ticks / CLK_TCK * 1000 / max(requests, 1),
        "problems": ([f"{bad.group(1)} responses with status >= 400"] if bad else [])
        + ([f"socket errors: {errors.group(1)}"] if errors else []),
    }


# --- first-view weight ------------------------------------------------------------------


class Assets(HTMLParser):
    """Collects <link rel=stylesheet href>, <script src> and the fragments htmx fetches as
    the page loads (hx-get with hx-trigger "load": part of the first view) in .urls."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.urls.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif a.get("hx-get") and "load" in (a.get("hx-trigger") or "").split(","):
            self.urls.append(a["hx-get"])


def page_weight(page_url: str) -> list[tuple[str, int, int]]:
    """[(path, raw bytes, gzip -6 bytes)] for the page, its same-origin CSS and JS and the
    fragments it loads."""
    html = urllib.request.urlopen(page_url, timeout=10).read()
    parser = Assets()
    parser.feed(html.decode())
    rows = [(urlsplit(page_url).path, len(html), len(gzip.compress(html, 6)))]
    for ref in dict.fromkeys(parser.urls):
        url = urljoin(page_url, ref)
        if urlsplit(url).netloc != urlsplit(page_url).netloc:
            continue
        body = urllib.request.urlopen(url, timeout=10).read()
        rows.append((urlsplit(url).path, len(body), len(gzip.compress(body, 6))))
    return rows


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians shown")
    parser.add_argument("--weight-only", action="store_true",
                        help="only the SQL statements and the first-view weights (no wrk)")
    args = parser.parse_args()
    tmp, env = demo_instance("shop-bench-")
    servers = []
    try:
        from shop import create_app

        category, product = discover(create_app())
        pages = {"home": "/", "category": category, "product": product}
        log(f"pages: {pages}")
        if not os.environ.get("DATABASE_URL"):
            add_listing_products(create_app, category)
        sql_rows = sql_figures(create_app, pages)

        empty = start_gunicorn("bench.empty_app:app", args.workers, env, tmp / "empty.log")
        servers.append(empty)
        shop = start_gunicorn("wsgi:app", args.workers, env, tmp / "shop.log")
        servers.append(shop)
        wait_until_up(*empty, tmp / "empty.log")
        wait_until_up(*shop, tmp / "shop.log")
        weights = {name: page_weight(shop[1] + pages[name]) for name in ("home", "product")}
        if args.weight_only:
            args.rounds = 0
        runs = [("empty /", empty, "/")] + [(f"{n} {u}", shop, u) for n, u in pages.items()]
        for _label, (_proc, base), path in runs if args.rounds else []:
            subprocess.run(["/usr/bin/wrk", "-t1", "-c2", "-d1s", base + path],
                           capture_output=True, check=True)  # warm-up, not counted
        # Rounds interleave the pages, so a slow spell of this shared machine hits all of
        # them alike; each figure below is the median over the rounds.
        rounds: dict[str, list[dict]] = {label: [] for label, _server, _path in runs}
        for n in range(args.rounds):
            for label, (proc, base), path in runs:
                log(f"round {n + 1}/{args.rounds}: wrk {label} for {args.duration}s")
                result = run_wrk(base + path, args.duration, args.connections, proc.pid)
                status = status_of(base + path)
                if status != 200:
                    result["problems"].insert(0, f"a single GET answered {status}, not 200")
                rounds[label].append(result)
        results = {}
        for label, runs_of_page in rounds.items() if args.rounds else []:
            shares = [100 * r["rps"] / e["rps"] for r, e in zip(runs_of_page, rounds["empty /"])]
            results[label] = {
                key: statistics.median(r[key] for r in runs_of_page)
                for key in ("rps", "p50", "p99", "cpu_ms")
            } | {"share": statistics.median(shares),
                 "problems": sorted({p for r in runs_of_page for p in r["problems"]})}
    finally:
        for proc, _base in servers:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    if results:
        print(f"\nThroughput: gunicorn -w {args.workers} -k sync, "
              f"wrk -t{min(2, args.connections)} -c{args.connections} -d{args.duration}s, "
              f"median of {args.rounds} interleaved rounds")
        print(f"{'page':<20}{'req/s':>9}{'% empty':>9}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'CPU ms/req':>12}  target")
        for label, r in results.items():
            share = r["share"]
            target = ""
            if label.startswith(("category", "product")):
                target = f">= {SHARE_TARGET:.0f} %  " + ("ok" if share >= SHARE_TARGET else "MISSED")
            print(f"{label:<20}{r['rps']:>9.0f}{share:>8.1f}%{r['p50']:>9.2f}{r['p99']:>9.2f}"
                  f"{r['cpu_ms']:>12.2f}  {target}")
        for label, r in results.items():
            for problem in r["problems"]:
                print(f"  WARNING {label}: {problem}")

    print("\nSQL statements per request (in-process test client): cold = fragment cache empty,"
          " warm = filled")
    print(f"{'page':<36}{'cold':>6}{'warm':>6}{'products':>9}  target (cold)")
    for label, r in sql_rows:
        if r is None:
            print(label)
            continue
        target = ""
        if label.startswith(("category", "product")):
            target = f"<= {QUERY_TARGET}  " + ("ok" if r["n"] <= QUERY_TARGET else "MISSED")
        if r["status"] != 200:
            target = f"ERROR: HTTP {r['status']} {r['error']}"
        print(f"{label:<36}{r['n']:>6}{r['warm']:>6}{r['shown']:>9}  {target}")

    for name, weight in weights.items():
        print(f"\nFirst view of the {name} page {pages[name]} (images aside), gzip level 6")
        print(f"{'file':<40}{'raw B':>9}{'gzip B':>9}")
        for path, raw, packed in weight:
            print(f"{path:<40}{raw:>9}{packed:>9}")
        total = sum(row[2] for row in weight)
        verdict = "ok" if total <= WEIGHT_TARGET else "MISSED"
        print(f"{'total':<40}{sum(row[1] for row in weight):>9}{total:>9}  "
              f"target <= {WEIGHT_TARGET // 1000} KB ({WEIGHT_TARGET} B)  {verdict}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp dir removed")
