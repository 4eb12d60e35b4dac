"""Search at size: requests/s, p50/p99 and CPU per request of search pages next to the
product page on the same server, SQLite and PostgreSQL, with 100 k products. Prints
figures; not a test.

    .venv/bin/python bench/search.py [--products 100000] [--databases sqlite,postgresql]
                                     [--workers 2] [--duration 5] [--connections 8]
                                     [--rounds 1] [--pg-server postgresql://postgres@127.0.0.1:5432]
                                     [--database shop_bench_search] [--keep]

For each database: a scratch database (SQLite: a file in a temp dir; PostgreSQL: the
database --database on --pg-server, dropped and created), migrated and given the demo
data (its categories, its synonyms), then --products products (one SKU with its opening
stock row each) bulk-inserted with Core executemany under the demo's categories, titled
from a vocabulary of the demo's kinds of goods, and indexed by shop.search.indexing
(`flask shop reindex-search`'s code). Then gunicorn (-k sync, as bench/pages.py) serves
it and wrk asks for each page; statements per request are counted in-process. Reuses
bench/pages.py's helpers. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pages import flask_cmd, log, run_wrk, start_gunicorn, status_of, stop, wait_until_up  # noqa: E402

QUERIES = {  # label -> query
    "search 芒果 (synonyms)": "芒果",
    "search 水果 (a category)": "水果",
    "search 海南芒果 (2 words)": "海南芒果",
    "search mango (prefix)": "mango",
    "search 特级 (broad)": "特级",
    "search 榴莲冰淇淋 (none)": "榴莲冰淇淋",
}
SUGGEST = "suggest 芒 (htmx)"

# Goods per demo child category slug: the titles' nouns.
GOODS = {
    "seasonal-fruit": ["芒果", "苹果", "脐橙", "荔枝", "葡萄", "香蕉", "桃子", "梨"],
    "imported-fruit": ["车厘子", "猕猴桃", "榴莲", "牛油果", "山竹", "蓝莓"],
    "fresh-vegetables": ["番茄", "黄瓜", "土豆", "西兰花", "胡萝卜"],
    "nuts-seeds": ["坚果", "碧根果", "开心果", "核桃", "夏威夷果"],
    "biscuits-pastries": ["饼干", "蛋黄酥", "月饼", "面包"],
    "spicy-snacks": ["辣条", "鸭脖", "牛肉干", "鸡爪"],
    "skincare": ["爽肤水", "精华液", "面霜", "防晒乳"],
    "tea": ["龙井", "普洱", "铁观音", "红茶", "白茶"],
    "coffee": ["挂耳咖啡", "冻干咖啡", "咖啡豆"],
    "rice-grains": ["大米", "小米", "挂面"],
    "kitchen": ["炒锅", "刀具", "保鲜盒"],
    "charging": ["充电器", "充电宝", "数据线"],
}
PLACES = ["海南", "云南", "广西", "山东", "四川", "新疆", "福建", "浙江", "智利", "泰国", "东北", "陕西"]
WORDS = ["新鲜", "当季", "进口", "有机", "精选", "特级", "礼盒装", "家庭装", "产地直发", "现摘"]
POINTS = ["香甜多汁", "顺丰包邮", "坏果包赔", "口感细腻", "整箱发货", "源头直采", "冷链配送", "买二送一"]
ENGLISH = {"芒果": "mango", "苹果": "apple", "车厘子": "cherries", "龙井": "longjing tea",
           "坚果": "nuts", "咖啡豆": "coffee beans"}


# --- the child: fill one database, count statements ------------------------------------


def fill(products: int) -> dict:
    from sqlalchemy import func, insert, select, text

    from shop import create_app
    from shop.catalog.models import Category, Product, Sku, StockMovement
    from shop.db import db, utcnow
    from shop.search.indexing import reindex

    app = create_app()
    rng = random.Random(26)
    with app.app_context():
        slugs = dict(db.session.execute(select(Category.slug, Category.id)
                                        .where(Category.slug.in_(list(GOODS)))).all())
        first = (db.session.scalar(select(func.max(Product.id))) or 0) + 1
        first_sku = (db.session.scalar(select(func.max(Sku.id))) or 0) + 1
        now = utcnow()
        started = time.perf_counter()
        connection = db.session.connection()
        for start in range(0, products, 5000):
            rows, skus, moves = [], [], []
            for i in range(start, min(start + 5000, products)):
                slug = rng.choice(list(GOODS))
                noun, place = rng.choice(GOODS[slug]), rng.choice(PLACES)
                words = rng.sample(WORDS, 2)
                price = rng.randrange(990, 29900, 10)
                english = {"en": {"title": f"{ENGLISH[noun]} no. {i}"}} if noun in ENGLISH else {}
                rows.append({
                    "id": first + i, "code": f"bench-{i}", "category_id": slugs[slug],
                    "title": f"{place}{noun} {words[0]}{words[1]} {rng.randint(1, 10)}斤装 {i}号",
                    "subtitle": "，".join(rng.sample(POINTS, 2)),
                    "selling_points": "\n".join(rng.sample(POINTS, 3)), "description": "",
                    "option_names": [], "currency": "CNY", "price_minor": price,
                    "cost_price_minor": price // 2, "status": "on_sale", "featured": False,
                    "sales_count": int(rng.paretovariate(1.2)) - 1, "on_sale_since": now,
                    "pickup_enabled": False, "translations": english,
                    "created_at": now, "updated_at": now,
                })
                skus.append({"id": first_sku + i, "product_id": first + i, "code": f"bench-{i}-1",
                             "option_values": [], "price_minor": price, "stock": 50,
                             "position": 0, "active": True})
                moves.append({"sku_id": first_sku + i, "delta": 50, "balance_after": 50,
                              "reason": "opening", "ref_type": "opening", "ref_id": f"bench-{i}",
                              "created_at": now})
            connection.execute(insert(Product.__table__), rows)
            connection.execute(insert(Sku.__table__), skus)
            connection.execute(insert(StockMovement.__table__), moves)
        inserted = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            for table in ("products", "skus"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
        started = time.perf_counter()
        indexed = reindex(connection)
        db.session.commit()
        reindexed = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                auto.execute(text("VACUUM ANALYZE"))
            sizes = dict(db.session.execute(text(
                "SELECT 'search_documents (with its GIN index)', pg_total_relation_size('search_documents') "
                "UNION ALL SELECT 'GIN index alone', pg_relation_size('search_fts_gin') "
                "UNION ALL SELECT 'products', pg_total_relation_size('products')")).all())
        else:
            page = db.session.execute(text("PRAGMA page_size")).scalar()
            sizes = {"database file": db.session.execute(text("PRAGMA page_count")).scalar() * page}
            try:
                sizes.update(dict(db.session.execute(text(
                    "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search%' OR name = 'products' "
                    "GROUP BY name")).all()))
            except Exception:  # noqa: BLE001 - dbstat is compiled into most builds, not all
                pass
        mango = db.session.scalar(select(Product.id).where(Product.code == "demo-hainan-mango"))
        total = db.session.scalar(select(func.count()).select_from(Product))
    return {"inserted_s": inserted, "reindexed_s": reindexed, "indexed": indexed,
            "products": total, "sizes": sizes, "product": f"/p/{mango}"}


def count_statements(urls: dict[str, str]) -> dict:
    from sqlalchemy import event

    from shop import create_app
    from shop.db import db
    from shop.extensions import cache

    app = create_app()
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    found: dict = {}
    for label, url in urls.items():
        headers = {"HX-Request": "true"} if label == SUGGEST else {}
        client.get(url, headers=headers)  # warm: jieba, compiled statements, the cache
        statements: list[str] = []

        def listener(conn, cursor, stmt, *rest):
            if not stmt.lstrip().upper().startswith("BEGIN"):
                statements.append(stmt)

        timings = []
        event.listen(engine, "before_cursor_execute", listener)
        for cold in (True, False):  # the cache emptied first (a query not searched lately), then warm
            if cold:
                with app.app_context():
                    cache.clear()
            statements.clear()
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append(((time.perf_counter() - started) * 1000, len(statements)))
        event.remove(engine, "before_cursor_execute", listener)
        html = response.get_data(as_text=True)
        found[label] = {"statements": timings[0][1], "warm_statements": timings[1][1],
                        "status": response.status_code, "ms": timings[0][0], "warm_ms": timings[1][0],
                        "shown": html.count('class="card-title"'),
                        "count": (html.split('class="count">', 1)[1].split("<", 1)[0]
                                  if 'class="count">' in html else "")}
    return found


def jieba_cost() -> dict:
    started = time.perf_counter()
    from shop.search import text

    text.segment("海南芒果")
    return {"first_query_ms": (time.perf_counter() - started) * 1000}


def child(products: int) -> None:
    urls = dict(json.loads(os.environ["BENCH_URLS"])) if os.environ.get("BENCH_URLS") else None
    if urls is None:
        result = fill(products)
    else:
        result = jieba_cost()  # first: nothing has loaded jieba yet
        result["statements"] = count_statements(urls)
    print("BENCH-RESULT " + json.dumps(result, ensure_ascii=False))


def run_child(env: dict, products: int, urls: dict | None = None) -> dict:
    env = {key: value for key, value in env.items() if key != "BENCH_URLS"}
    if urls:
        env["BENCH_URLS"] = json.dumps(urls)
    out = subprocess.run([sys.executable, __file__, "--child", "--products", str(products)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench child failed:\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("BENCH-RESULT "))
    return json.loads(line.removeprefix("BENCH-RESULT "))


# --- the parent: one database after the other --------------------------------------------


def bench_database(kind: str, args, tmp: Path) -> dict:
    env = {**os.environ, "FLASK_APP": "wsgi:app", "SHOP_INSTANCE_PATH": str(tmp / "instance")}
    env.pop("BENCH_URLS", None)
    if kind == "postgresql":
        server = args.pg_server.rstrip("/")
        subprocess.run(["psql", f"{server}/postgres", "-qc",
                        f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'], check=True)
        subprocess.run(["psql", f"{server}/postgres", "-qc", f'CREATE DATABASE "{args.database}"'],
                       check=True)
        env["DATABASE_URL"] = f"{server}/{args.database}"
    else:
        env.pop("DATABASE_URL", None)
    log(f"{kind}: migrate and load the demo")
    flask_cmd(env, "db", "upgrade")
    flask_cmd(env, "shop", "demo")
    log(f"{kind}: {args.products} products, bulk insert and index")
    filled = run_child(env, args.products)
    urls = {"product page": filled["product"]}
    urls.update({label: f"/search?q={quote(q)}" for label, q in QUERIES.items()})
    urls[SUGGEST] = f"/search/suggest?q={quote('芒')}"
    counted = run_child(env, args.products, urls)

    proc, base = start_gunicorn("wsgi:app", args.workers, env, tmp / f"{kind}.log")
    results: dict[str, list] = {label: [] for label in urls}
    try:
        wait_until_up(proc, base, tmp / f"{kind}.log", timeout=60)
        for label, url in urls.items():  # warm-up: each worker loads jieba on its first query
            headers = ("HX-Request: true",) if label == SUGGEST else ()
            subprocess.run(["/usr/bin/wrk", "-t1", f"-c{args.workers * 2}", "-d2s",
                            *(a for h in headers for a in ("-H", h)), base + url],
                           capture_output=True, check=True)
        for n in range(args.rounds):
            for label, url in urls.items():
                log(f"{kind} round {n + 1}/{args.rounds}: wrk {label} for {args.duration}s")
                headers = ("HX-Request: true",) if label == SUGGEST else ()
                result = run_wrk(base + url, args.duration, args.connections, proc.pid, headers)
                status = status_of(base + url)
                if status not in (200, 302):
                    result["problems"].insert(0, f"a single GET answered {status}")
                results[label].append(result)
    finally:
        stop(proc)
        if kind == "postgresql" and not args.keep:
            subprocess.run(["psql", f"{args.pg_server.rstrip('/')}/postgres", "-qc",
                            f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'], check=False)
    return {"filled": filled, "counted": counted, "results": results}


def report(kind: str, data: dict, args) -> None:
    import statistics

    filled, counted = data["filled"], data["counted"]
    print(f"\n== {kind}: {filled['products']} products; bulk insert {filled['inserted_s']:.1f} s, "
          f"index {filled['indexed']} products {filled['reindexed_s']:.1f} s; "
          f"jieba's first query in a fresh process {counted['first_query_ms']:.0f} ms")
    print("   sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in filled["sizes"].items()))
    print(f"gunicorn -w {args.workers} -k sync, wrk -t2 -c{args.connections} -d{args.duration}s, "
          f"median of {args.rounds} round(s)")
    print(f"{'page':<28}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms':>8}{'SQL':>7}"
          f"{'in-proc ms':>13}  shown")
    for label, runs in data["results"].items():
        r = {key: statistics.median(x[key] for x in runs) for key in ("rps", "p50", "p99", "cpu_ms")}
        c = counted["statements"][label]
        shown = f"{c['shown']} cards" + (f", {c['count']}" if c["count"] else "")
        print(f"{label:<28}{r['rps']:>8.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['cpu_ms']:>8.1f}"
              f"{c['statements']:>4}/{c['warm_statements']:<2}{c['ms']:>7.1f}/{c['warm_ms']:<5.1f}  {shown}")
        for problem in sorted({p for x in runs for p in x["problems"]}):
            print(f"  WARNING {label}: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pg-server", default=os.environ.get("PG_SERVER", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="shop_bench_search")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.products)
    found = {}
    for kind in args.databases.split(","):
        tmp = Path(tempfile.mkdtemp(prefix=f"shop-bench-search-{kind}-"))
        try:
            found[kind] = bench_database(kind, args, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for kind, data in found.items():
        report(kind, data, args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp dirs removed")
