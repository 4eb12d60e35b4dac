"""Article pages: SQL statements and in-process render time per request as the number of
embedded products grows. Prints figures; not a test.

    .venv/bin/python bench/article_embeds.py [--requests 200]

Makes a throw-away instance (SQLite in a temp dir, or DATABASE_URL if set), migrates it,
loads the demo data, writes one published article per size (1, 2, 5, 10, 20 product
cards, the most an article may embed) through the articles service, then GETs each
article page through the test client: one warm-up, one counted request (statements seen
by SQLAlchemy's before_cursor_execute), and --requests timed ones (median and p90, ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 2, 5, 10, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="shop-bench-articles-")
    os.environ["SHOP_INSTANCE_PATH"] = tmp  # read when shop.config is imported
    sys.path.insert(0, str(ROOT))
    try:
        run(args.requests)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(requests: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import event, select

    from shop import create_app
    from shop.accounts.models import User
    from shop.articles import services as articles
    from shop.catalog.models import Product
    from shop.db import db
    from shop.demo import load_demo

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        on_sale = db.session.scalars(select(Product.id).where(Product.status == "on_sale")
                                     .order_by(Product.id).limit(max(SIZES))).all()
        urls = {}
        for size in SIZES:
            body = "\n\n".join(f"一段介绍。\n\n[[product:{pid}]]" for pid in on_sale[:size])
            article = articles.save_article(None, articles.ArticleData(
                title=f"{size} 个商品", summary="", body_md=body, category_id=None, tags=[],
                repromote_days=None), actor=admin)
            articles.change_status(article, "published", actor=admin)
            urls[size] = f"/a/{article.id}"
        db.session.commit()
        engine = db.engine

    client = app.test_client()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    print(f"database: {engine.dialect.name}; {requests} timed requests per page\n")
    print(f"{'embeds':>6} {'cards':>6} {'queries':>8} {'median ms':>10} {'p90 ms':>8}")
    for url in urls.values():  # warm-up: templates compiled, caches filled
        for _ in range(5):
            client.get(url)
    for size, url in urls.items():
        event.listen(engine, "before_cursor_execute", count)
        statements.clear()
        html = client.get(url).get_data(as_text=True)
        queries = len(statements)
        event.remove(engine, "before_cursor_execute", count)
        timings = []
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        timings.sort()
        p90 = timings[int(len(timings) * 0.9) - 1]
        cards = html.count('class="embed"')
        print(f"{size:>6} {cards:>6} {queries:>8} "
              f"{statistics.median(timings):>10.2f} {p90:>8.2f}")
        if os.environ.get("BENCH_SHOW_SQL") and size == max(SIZES):
            print("\n".join(statements))


if __name__ == "__main__":
    main()
