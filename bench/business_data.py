"""Business-data dashboard at size: fills a scratch PostgreSQL database with a year of a
busy shop (1 M orders and 10 M page views by default) in bulk SQL, rolls the closed days
up through the shop's own code, then times the admin dashboard (GET /admin/data/) over
HTTP and in-process, next to the same figures at 10 k orders. Prints figures; not a test.

    .venv/bin/python bench/business_data.py [--orders 1000000] [--hits N] [--days 365]
                                            [--no-small] [--rounds 5] [--workers 2]
                                            [--database bench_data] [--keep]

Needs the project venv (gunicorn) and a PostgreSQL server on loopback where the user may
create databases (PG_SERVER, default postgresql://postgres@127.0.0.1:5432) with the
`createdb`/`dropdb` clients. For each size (10 k orders and 100 k page views first, unless
--no-small; then --orders and --hits):

1. Drops and recreates the scratch database (--database), migrates it (`flask db upgrade`).
2. Fills it with INSERT ... SELECT ... FROM generate_series(...) statements (no Python
   loop over rows), spread over --days local days (SHOP_TIMEZONE) ending yesterday, with
   a growing shop (a day at the end has three times the traffic of a day at the start):
   orders/5 shoppers (a fifth of them older than the range) with their acquisitions, 300
   products with 2 SKUs each in 6 categories (the last 25 never sell: off sale, drafts, and
   10 on sale that show up as stale), 40 published articles, up to 300 approved
   distributors; visitor-days (about 4 days per visitor, 32-hex visitor ids) of 1 to many
   page views (3 on average: page, product, article; 3 in 4 visitor-days start with a
   landing that carries a source), plus one add-to-cart on every visitor-day that placed
   an order and on 1 in 10 of the others; --hits is the number of page views (carts come
   on top), hits are written in day order as the beacon would; orders (93 % paid, of them
   some refunded in full or in part, the rest cancelled or, on the last day, still awaiting
   payment) of 1-3 lines (1 line in 10 credited to an article), each placed by a visitor-day
   of its day, and its order_facts row (placed/paid day, visitor, the source of that
   visit's landing, total, refunds); order_referrals for about a fifth of the orders (every
   order whose visit landed through a share link or poster, with that sharer as level 1,
   and a few bound buyers), commissions on the paid ones and the distributors' balances;
   group buys settled complete/failed; 6 coupons, used on 1 paid order in 9 and claimed
   unused by others; products' sales counts, last sales and 100/1,000 milestones for every
   paid order but those paid on the last day, which are left to the shop's count_sales.
   Every step is timed; then table sizes, VACUUM (ANALYZE) (what autovacuum would
   have done on a live database: statistics and the visibility map for index-only scans).
3. Rolls the closed days up (services.days_to_roll_up / roll_up_day, committing each day,
   as the sweeper does) and runs count_sales over the orders paid on the last day; timed.
4. Serves the shop (`wsgi:app`) with gunicorn -w --workers -k sync on a free port of
   127.0.0.1 and GETs, signed in as an admin (a session cookie signed in-process), the
   dashboard for the last 7, 30, 90 and 365 days (each ending today, as the form's default
   does), the operations signals and one CSV export (products, 365 days): one warm-up then
   --rounds requests each, checking status 200; median and max ms. The same in-process
   (services.dashboard in an app context: the queries without the rendering).
5. Where a page's median is over the budget (--budget, 1 s), lists its slowest SQL statements and
   prints EXPLAIN (ANALYZE, BUFFERS) of the worst ones.
Then a table of both sizes side by side. Drops the database at the end (--keep keeps the
last one), also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flash_sale import clean_up, fresh_database, scratch_environment  # noqa: E402
from bench.pages import flask_cmd, log, start_gunicorn, stop, wait_until_up  # noqa: E402

AGENT = "business-data-bench"
BUDGET_MS = 1000.0
ADMIN_ID = 1
CATEGORIES = ("服装", "美妆", "食品", "家居", "数码", "母婴")
PRODUCTS, NEVER_SOLD = 300, 25  # the last 25 products never sell (5 drafts, 10 off sale, 10 stale)
ARTICLES = 40
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # shop.accounts.models
SOURCES_20 = ["direct"] * 11 + ["referral"] * 3 + ["poster"] + ["utm"] * 3 + ["article"] * 2
RANGES = (("last 7 days", 7), ("last 30 days", 30), ("last 90 days", 90), ("last 365 days", 365))
TABLES = ("hits", "day_figures", "visitor_numbers", "order_facts", "sales_days", "orders", "order_lines", "order_referrals",
          "commissions", "users", "acquisitions", "user_coupons", "groups", "distributors",
          "products", "skus", "articles")


def sql_array(values) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def pick(values) -> str:
    """SQL for one of `values`, uniformly, from one random() (repeat a value to weigh it)."""
    return f"({sql_array(values)})[1 + floor(random() * {len(values)})::int]"


def code_sql(user_id: str) -> str:
    """SQL for a user's referral code: 8 characters of the shop's alphabet, unique per id
    (the id times a prime, written in base 31)."""
    scrambled = f"(({user_id})::bigint * 1000003 % {31 ** 8})"
    return " || ".join(f"substr('{CODE_ALPHABET}', ({scrambled} / {31 ** i} % 31)::int + 1, 1)"
                       for i in range(8))


def growth(q: str) -> str:
    """SQL: where in the range (0..1) the q-th quantile of a growing shop falls, for a
    density rising linearly from 0.5 to 1.5 (the last day three times the first)."""
    return f"(sqrt(0.25 + 2.0 * ({q})) - 0.5)"


# --- the fill ------------------------------------------------------------------------------


class Fill:
    def __init__(self, conn, *, orders: int, page_views: int, days: int, tz: str):
        self.conn = conn
        self.steps: list[tuple[str, int, float]] = []
        today = datetime.now(ZoneInfo(tz)).date()
        self.today = today
        self.first_day, self.last_day = today - timedelta(days=days), today - timedelta(days=1)
        n_users = max(orders // 5, 50)
        n_dist = min(300, max(10, n_users // 20))
        visitor_days = max(page_views // 3, days)
        self.v = {
            "N": orders, "D": days, "TZ": tz, "U": n_users, "ND": n_dist,
            "U0": max(n_dist, n_users // 5),  # shoppers whose account is older than the range
            "VD": visitor_days, "V": max(visitor_days // 4, 1), "P": PRODUCTS,
            "PS": PRODUCTS - NEVER_SOLD, "A": ARTICLES, "NG": max(orders // 60, 10),
            "SPAN": days * 86400,
            "T0": f"(DATE '{self.first_day}'::timestamp AT TIME ZONE '{tz}')",
            "FIRST": f"DATE '{self.first_day}'", "LAST": f"DATE '{self.last_day}'",
        }

    def run(self, label: str, sql: str) -> int:
        for key, value in self.v.items():
            sql = sql.replace("{" + key + "}", str(value))
        started = time.perf_counter()
        cur = self.conn.execute(sql)
        seconds = time.perf_counter() - started
        rows = max(cur.rowcount, 0)
        self.steps.append((label, rows, seconds))
        log(f"fill: {label}: {rows} rows in {seconds:.1f}s")
        return rows

    def all(self) -> None:
        self.conn.execute("SET synchronous_commit = off")
        self.conn.execute("SET work_mem = '512MB'")  # one-batch hash joins: the day order holds
        self.conn.execute("SET maintenance_work_mem = '1GB'")
        self.conn.execute("SET temp_buffers = '1GB'")
        self.conn.execute("SELECT setseed(0.42)")
        self.catalog()
        self.people()
        self.visits()
        self.orders()
        self.referrals()
        self.campaigns()
        self.sales()
        self.run("hits (page views and carts)", self.HITS)
        for table in ("users", "categories", "products", "skus", "orders", "articles", "coupons",
                      "group_campaigns"):
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))")

    def catalog(self) -> None:
        self.run("categories", f"""
            INSERT INTO categories (id, slug, name, position, active, translations, created_at, updated_at)
            SELECT c, 'bench-' || c, ({sql_array(CATEGORIES)})[c], c, true, '{{}}',
                   {{T0}} - interval '400 days', {{T0}} - interval '400 days'
            FROM generate_series(1, {len(CATEGORIES)}) c""")
        self.run("products", f"""
            INSERT INTO products (id, code, category_id, title, subtitle, selling_points, description,
                                  option_names, currency, price_minor, cost_price_minor, status, featured,
                                  sales_count, translations, created_at, updated_at, pickup_enabled,
                                  on_sale_since)
            SELECT p, 'bench-p' || p, 1 + p % {len(CATEGORIES)}, '基准商品 ' || lpad(p::text, 4, '0'),
                   '', '', '', '["规格"]', 'CNY', price, price * 6 / 10, status, p <= 8, 0, '{{}}',
                   {{T0}} - interval '200 days', {{T0}} - interval '200 days', false,
                   CASE WHEN status = 'on_sale' THEN {{T0}} - interval '200 days' END
            FROM (SELECT p, 990 + (p * 7919 % 60) * 300 AS price,
                         CASE WHEN p > {{P}} - 5 THEN 'draft' WHEN p > {{P}} - 15 THEN 'off_sale'
                              ELSE 'on_sale' END AS status
                  FROM generate_series(1, {{P}}) p) s""")
        self.run("skus", """
            INSERT INTO skus (id, product_id, code, option_values, price_minor, stock, position, active)
            SELECT 2 * (p.id - 1) + s, p.id, p.code || '-' || s,
                   json_build_array(CASE s WHEN 1 THEN '标准' ELSE '大份' END),
                   p.price_minor + (s - 1) * 1000, 1000, s - 1, true
            FROM products p, generate_series(1, 2) s""")

    def people(self) -> None:
        self.run("users: an admin", f"""
            INSERT INTO users (id, email, password_hash, nickname, role, active, created_at, updated_at,
                               can_publish, referral_code)
            VALUES ({ADMIN_ID}, 'admin@bench.example', '!', '管理员', 'admin', true,
                    {{T0}} - interval '400 days', {{T0}} - interval '400 days', true, {code_sql(str(ADMIN_ID))})""")
        # shopper k is user k + 1; the first U0 made before the range, the rest across it
        self.run("users: shoppers", f"""
            INSERT INTO users (id, email, password_hash, nickname, role, active, created_at, updated_at,
                               can_publish, referral_code)
            SELECT k + 1, 'shopper' || k || '@bench.example', '!', '买家' || k, 'shopper', true,
                   made, made, false, {code_sql('k + 1')}
            FROM (SELECT k, CASE WHEN k <= {{U0}}
                            THEN {{T0}} - make_interval(secs => ({{U0}} - k + 1)::float8 / {{U0}} * 365 * 86400)
                            ELSE {{T0}} + make_interval(secs => {growth('(k - {U0} - 0.5)::float8 / ({U} - {U0})')} * {{SPAN}})
                            END AS made
                  FROM generate_series(1, {{U}}) k) s""")
        self.run("acquisitions", f"""
            INSERT INTO acquisitions (user_id, day, source, ref_code, article_id, utm_campaign)
            SELECT id, (created_at AT TIME ZONE '{{TZ}}')::date, source,
                   CASE WHEN source IN ('referral', 'poster') THEN {code_sql('ref_user')} END,
                   CASE WHEN source = 'article' THEN 1 + floor({{A}} * random() ^ 2)::int END,
                   CASE WHEN source = 'utm' THEN {pick(['spring', '618', 'double11', 'newyear'])} END
            FROM (SELECT id, created_at, {pick(SOURCES_20)} AS source,
                         2 + floor({{ND}} * random() ^ 2)::int AS ref_user
                  FROM users WHERE role = 'shopper') s""")
        self.run("distributors", """
            INSERT INTO distributors (user_id, status, real_name, phone, pitch, decision_reason,
                                      decided_by_id, decided_at, currency, pending_minor, balance_minor,
                                      created_at, updated_at)
            SELECT id, 'approved', '分销员' || id, '138' || lpad(id::text, 8, '0'), '', '', 1,
                   created_at + interval '1 day', 'CNY', 0, 0, created_at, created_at + interval '1 day'
            FROM users WHERE id BETWEEN 2 AND {ND} + 1""")
        self.run("articles", f"""
            INSERT INTO articles (id, author_id, title, summary, body_md, body_html, status, published_at,
                                  revision, repromote_days, last_promoted_at, repromote_due_at,
                                  created_at, updated_at)
            SELECT a, {ADMIN_ID}, '基准文章 ' || a, '摘要', '正文', '<p>正文</p>', 'published', published,
                   0, CASE WHEN a % 2 = 0 THEN 15 END, promoted,
                   CASE WHEN a % 2 = 0 THEN promoted + interval '15 days' END, published, published
            FROM (SELECT a, {{T0}} - make_interval(days => 100 - a) AS published,
                         now() - make_interval(days => a % 30) AS promoted
                  FROM generate_series(1, {{A}}) a) s""")

    def visits(self) -> None:
        # Visitor-days in day order: visit i (of VD) falls on the day of quantile i of the
        # growing shop, by a visitor who arrived about 20 days of visits earlier (so each
        # visitor comes back on about 4 days); 3 page views on average (geometric).
        self.run("temp: visitor-days", f"""
            CREATE TEMP TABLE bench_vd AS
            SELECT i AS vd, day, visitor_no, views, source,
                   CASE WHEN source IN ('referral', 'poster') THEN ref_user END AS ref_user,
                   CASE WHEN source IN ('referral', 'poster') THEN {code_sql('ref_user')} END AS ref_code,
                   CASE WHEN source = 'article' THEN 'article' ELSE land_kind END AS land_kind,
                   utm, r_start, r_cart
            FROM (SELECT i,
                         {{FIRST}} + least({{D}} - 1, floor({growth('(i - 0.5)::float8 / {VD}')} * {{D}})::int) AS day,
                         1 + floor((CASE WHEN i - lag >= 1 THEN i - lag ELSE 1 + random() * (i - 1) END - 1)
                                   * {{V}}::float8 / {{VD}})::int AS visitor_no,
                         1 + floor(ln(1 - random()) / ln(2.0 / 3))::int AS views,
                         CASE WHEN random() < 0.75 THEN {pick(SOURCES_20)} END AS source,
                         2 + floor({{ND}} * random() ^ 2)::int AS ref_user,
                         {pick(['page'] * 5 + ['product'] * 4 + ['article'])} AS land_kind,
                         floor(random() * 4)::int AS utm, random() AS r_start, random() AS r_cart
                  FROM (SELECT i, -ln(1 - random()) * 20.0 * {{VD}} / {{D}} AS lag
                        FROM generate_series(1, {{VD}}) i) g) s""")
        self.conn.execute("ANALYZE bench_vd")
        self.run("temp: days", """
            CREATE TEMP TABLE bench_days AS
            SELECT day, min(vd) AS first_vd, count(*) AS n_vd FROM bench_vd GROUP BY day""")

    def orders(self) -> None:
        # Order n is placed at quantile n of the growing shop (ids follow time, as they do),
        # by a shopper among those with an account by then, in a visit of that day.
        self.run("temp: orders", f"""
            CREATE TEMP TABLE bench_orders AS
            SELECT s.n AS id, s.created_at, s.day, s.user_id,
                   d.first_vd + floor(s.r_vd * d.n_vd)::int AS vd, s.status, s.kind, s.lines, s.coupon,
                   CASE WHEN s.status NOT IN ('cancelled', 'awaiting_payment')
                        THEN least(s.created_at + make_interval(secs => 30 + s.r_pay * 900),
                                   now() - interval '1 minute') END AS paid_at
            FROM (SELECT n, created_at, (created_at AT TIME ZONE '{{TZ}}')::date AS day,
                         2 + floor(random() * ({{U0}} + ({{U}} - {{U0}}) * q))::int AS user_id,
                         random() AS r_vd, random() AS r_pay, kind, lines, coupon,
                         CASE WHEN r < 0.005 AND created_at > now() - interval '36 hours' THEN 'awaiting_payment'
                              WHEN r < 0.07 THEN 'cancelled'
                              WHEN r < 0.09 THEN 'refunded'
                              WHEN r < 0.105 THEN 'partly_refunded'
                              WHEN r < 0.11 THEN 'refund_requested'
                              WHEN created_at > now() - interval '2 days' THEN 'paid'
                              WHEN created_at > now() - interval '10 days' THEN 'shipped'
                              ELSE 'completed' END AS status
                  FROM (SELECT n, q, {{T0}} + make_interval(secs => {growth('q')} * {{SPAN}}) AS created_at,
                               random() AS r,
                               {pick(['standard'] * 18 + ['group', 'flash'])} AS kind,
                               {pick([1] * 12 + [2] * 6 + [3] * 2)} AS lines,
                               CASE WHEN random() < 0.12 THEN 1 + floor(random() * 6)::int END AS coupon
                        FROM (SELECT n, (n - 0.5)::float8 / {{N}} AS q FROM generate_series(1, {{N}}) n) a) b) s
            JOIN bench_days d ON d.day = s.day""")
        if self.steps[-1][1] != self.v["N"]:
            sys.exit(f"{self.steps[-1][1]} orders made of {self.v['N']}: a day without visits "
                     "(raise --hits)")
        self.conn.execute("ANALYZE bench_orders")
        self.run("temp: order lines", f"""
            CREATE TEMP TABLE bench_lines AS
            SELECT o.id AS order_id, l AS line_no, p AS product_id, 2 * (p - 1) + sku AS sku_id, qty, article
            FROM bench_orders o, generate_series(1, o.lines) l,
                 LATERAL (SELECT 1 + floor({{PS}} * random() ^ 2)::int AS p,
                                 CASE WHEN random() < 0.3 THEN 2 ELSE 1 END AS sku,
                                 {pick([1] * 16 + [2] * 3 + [3])} AS qty,
                                 CASE WHEN random() < 0.1 THEN 1 + floor({{A}} * random() ^ 1.5)::int END AS article,
                                 o.id + l AS correlated) r""")
        self.run("coupons", """
            INSERT INTO coupons (id, name, currency, kind, amount_minor, percent_bp, cap_minor,
                                 min_spend_minor, scope, scope_ids, valid_from, valid_until, valid_days,
                                 total_quantity, remaining, per_user_limit, claimable, newcomer, returns,
                                 group_buys, active, created_at, updated_at)
            SELECT id, name, 'CNY', kind, amount, bp, cap, min_spend, 'all', '[]',
                   {T0} - interval '30 days', NULL, 30, NULL, NULL, 100, true, id = 3, true, false, true,
                   {T0} - interval '31 days', {T0} - interval '31 days'
            FROM (VALUES (1, '满99减10', 'amount', 1000, NULL, NULL, 9900),
                         (2, '满199减30', 'amount', 3000, NULL, NULL, 19900),
                         (3, '新人券 5 元', 'amount', 500, NULL, NULL, 0),
                         (4, '9 折券', 'percent', NULL, 1000, 5000, 0),
                         (5, '满299减50', 'amount', 5000, NULL, NULL, 29900),
                         (6, '会员 8.8 折', 'percent', NULL, 1200, 8000, 0))
                 AS c(id, name, kind, amount, bp, cap, min_spend)""")
        self.run("temp: order totals", """
            CREATE TEMP TABLE bench_totals AS
            SELECT order_id, subtotal, ship, discount, subtotal + ship - discount AS total
            FROM (SELECT t.order_id, t.subtotal, CASE WHEN t.subtotal >= 9900 THEN 0 ELSE 800 END AS ship,
                         CASE WHEN c.id IS NOT NULL AND o.status IN ('paid', 'shipped', 'completed')
                                   AND t.subtotal >= c.min_spend_minor
                              THEN least(t.subtotal, CASE c.kind WHEN 'amount' THEN c.amount_minor
                                                     ELSE least(c.cap_minor, t.subtotal * c.percent_bp / 10000) END)
                              ELSE 0 END AS discount
                  FROM (SELECT l.order_id, sum(l.qty * s.price_minor)::int AS subtotal
                        FROM bench_lines l JOIN skus s ON s.id = l.sku_id GROUP BY l.order_id) t
                  JOIN bench_orders o ON o.id = t.order_id
                  LEFT JOIN coupons c ON c.id = o.coupon) x""")
        self.conn.execute("ANALYZE bench_totals")
        self.run("orders", """
            INSERT INTO orders (id, user_id, idempotency_key, kind, status, currency, subtotal_minor,
                                total_minor, ship_name, ship_phone, ship_address, expires_at, created_at,
                                updated_at, shipped_at, carrier, tracking_number)
            SELECT o.id, o.user_id, 'bench-' || o.id, o.kind, o.status, 'CNY', t.subtotal, t.total, '张三',
                   '13800138000', '浙江省杭州市西湖区文三路 1 号', o.created_at + interval '30 minutes',
                   o.created_at, least(now(), coalesce(shipped, o.paid_at, o.created_at + interval '30 minutes')),
                   shipped, CASE WHEN shipped IS NOT NULL THEN '顺丰速运' END,
                   CASE WHEN shipped IS NOT NULL THEN 'SF' || lpad(o.id::text, 12, '0') END
            FROM bench_orders o JOIN bench_totals t ON t.order_id = o.id,
                 LATERAL (SELECT CASE WHEN o.status IN ('shipped', 'completed')
                                      THEN o.paid_at + interval '1 day' END AS shipped) s
            ORDER BY o.id""")
        self.run("order_lines", """
            INSERT INTO order_lines (order_id, sku_id, product_id, title, sku_label, unit_price_minor,
                                     quantity, total_minor, source_article_id)
            SELECT l.order_id, l.sku_id, l.product_id, p.title, s.option_values ->> 0, s.price_minor, l.qty,
                   s.price_minor * l.qty, l.article
            FROM bench_lines l JOIN skus s ON s.id = l.sku_id JOIN products p ON p.id = l.product_id
            ORDER BY l.order_id, l.line_no""")
        self.run("order_facts", """
            INSERT INTO order_facts (order_id, user_id, visitor, kind, currency, total_minor, refunded_minor,
                                     source, ref_code, placed_day, paid_day, paid_at, counted)
            SELECT o.id, o.user_id, md5('bench-visitor-' || v.visitor_no), o.kind, 'CNY', t.total,
                   CASE o.status WHEN 'refunded' THEN t.total WHEN 'partly_refunded' THEN t.total / 3 ELSE 0 END,
                   coalesce(v.source, 'direct'), v.ref_code, o.day, (o.paid_at AT TIME ZONE '{TZ}')::date,
                   o.paid_at, o.paid_at IS NOT NULL AND (o.paid_at AT TIME ZONE '{TZ}')::date < {LAST}
            FROM bench_orders o JOIN bench_totals t ON t.order_id = o.id JOIN bench_vd v ON v.vd = o.vd
            ORDER BY o.id""")
        self.run("order_facts: first paid days", """
            UPDATE order_facts f SET first_paid_day = m.first
            FROM (SELECT user_id, min(paid_day) AS first FROM order_facts
                  WHERE paid_day IS NOT NULL GROUP BY user_id) m
            WHERE f.user_id = m.user_id AND f.paid_day IS NOT NULL""")

    def referrals(self) -> None:
        self.run("order_referrals", f"""
            INSERT INTO order_referrals (order_id, level1_id, level2_id, target)
            SELECT id, level1,
                   CASE WHEN random() < 0.3
                        THEN 2 + (level1 - 2 + 1 + floor(random() * ({{ND}} - 1))::int) % {{ND}} END,
                   target
            FROM (SELECT o.id, o.user_id, coalesce(v.ref_user, 2 + floor({{ND}} * random() ^ 2)::int) AS level1,
                         CASE WHEN v.ref_user IS NOT NULL THEN {pick(['', 'p1', 'p2', 'p3', 'a1'])} END AS target
                  FROM bench_orders o JOIN bench_vd v ON v.vd = o.vd
                  WHERE v.ref_user IS NOT NULL OR random() < 0.06) s
            WHERE level1 <> user_id
            ORDER BY id""")
        self.run("commissions", """
            INSERT INTO commissions (order_id, user_id, level, status, currency, base_minor, uncapped_minor,
                                     amount_minor, reversed_minor, created_at, settle_at, settled_at)
            SELECT order_id, user_id, level, CASE WHEN settled THEN 'settled' ELSE 'pending' END, 'CNY',
                   base, uncapped, uncapped,
                   CASE status WHEN 'refunded' THEN uncapped WHEN 'partly_refunded' THEN uncapped / 3 ELSE 0 END,
                   paid_at, paid_at + interval '7 days', CASE WHEN settled THEN paid_at + interval '7 days' END
            FROM (SELECT r.order_id, c.user_id, c.level, o.status, o.paid_at,
                         o.paid_at + interval '7 days' <= now() AS settled, t.subtotal - t.discount AS base,
                         (t.subtotal - t.discount) * c.bp / 10000 AS uncapped
                  FROM order_referrals r JOIN bench_orders o ON o.id = r.order_id
                  JOIN bench_totals t ON t.order_id = r.order_id,
                  LATERAL (VALUES (1, r.level1_id, 1000), (2, r.level2_id, 500)) AS c(level, user_id, bp)
                  WHERE o.paid_at IS NOT NULL AND c.user_id IS NOT NULL) x
            ORDER BY order_id, level""")
        self.run("distributors: balances", """
            UPDATE distributors d SET pending_minor = x.pending, balance_minor = x.balance
            FROM (SELECT user_id,
                         coalesce(sum(amount_minor - reversed_minor) FILTER (WHERE status = 'pending'), 0) AS pending,
                         coalesce(sum(amount_minor - reversed_minor) FILTER (WHERE status = 'settled'), 0) AS balance
                  FROM commissions GROUP BY user_id) x
            WHERE d.user_id = x.user_id""")

    def campaigns(self) -> None:
        self.run("user_coupons", """
            INSERT INTO user_coupons (coupon_id, user_id, claim_no, source, status, starts_at, expires_at,
                                      order_id, discount_minor, created_at)
            SELECT coupon_id, user_id,
                   row_number() OVER (PARTITION BY coupon_id, user_id ORDER BY created_at, order_id),
                   CASE WHEN coupon_id = 3 THEN 'newcomer' ELSE 'claim' END, status, created_at,
                   created_at + interval '30 days', order_id, discount, created_at
            FROM (SELECT o.coupon AS coupon_id, o.user_id, 'used' AS status, o.id AS order_id, t.discount,
                         o.created_at - make_interval(secs => random() * 10 * 86400) AS created_at
                  FROM bench_orders o JOIN bench_totals t ON t.order_id = o.id WHERE t.discount > 0
                  UNION ALL
                  SELECT 1 + floor(random() * 6)::int, 2 + floor(random() * {U})::int, 'available', NULL, 0,
                         now() - make_interval(secs => random() * 25 * 86400)
                  FROM generate_series(1, {N} / 10)) s
            ORDER BY created_at""")
        self.run("group_campaigns", """
            INSERT INTO group_campaigns (id, product_id, currency, group_size, hours, starts_at, ends_at,
                                         per_user_limit, stock_cap, units_left, new_customers_only,
                                         auto_complete_bp, active, created_at, updated_at)
            SELECT c, 1 + (c * 37) % {PS}, 'CNY', (ARRAY[2, 3, 5])[1 + c % 3], 24, starts,
                   starts + interval '15 days', 1, 100000, 50000, false, NULL,
                   now() < starts + interval '15 days', starts - interval '1 day', starts - interval '1 day'
            FROM (SELECT c, {T0} + (c - 1) * interval '15 days' AS starts
                  FROM generate_series(1, {D} / 15 + 1) c) s""")
        self.run("groups", f"""
            INSERT INTO groups (campaign_id, leader_id, status, size, seats_left, paid_count, expires_at,
                                settled_at, auto_completed, version, created_at, updated_at)
            SELECT c.id, s.leader, st.status, c.group_size, st.seats, c.group_size - st.seats,
                   s.made + interval '24 hours', st.settled, false, 1, s.made, coalesce(st.settled, s.made)
            FROM (SELECT g, {{T0}} + make_interval(secs => {growth('(g - 0.5)::float8 / {NG}')} * {{SPAN}}) AS made,
                         2 + floor(random() * {{U}})::int AS leader, random() AS r, random() AS r2
                  FROM generate_series(1, {{NG}}) g) s
            JOIN group_campaigns c ON c.id = 1 + floor(extract(epoch FROM s.made - {{T0}}) / (15 * 86400))::int,
            LATERAL (SELECT CASE WHEN s.made > now() - interval '24 hours' THEN 'open'
                                 WHEN s.r < 0.7 THEN 'complete' ELSE 'failed' END AS status) k,
            LATERAL (SELECT k.status,
                            CASE k.status WHEN 'complete' THEN 0 WHEN 'open' THEN 1
                                 ELSE 1 + floor(s.r2 * (c.group_size - 1))::int END AS seats,
                            CASE k.status WHEN 'complete' THEN s.made + s.r2 * interval '23 hours'
                                 WHEN 'failed' THEN s.made + interval '24 hours' END AS settled) st
            ORDER BY s.g""")

    def sales(self) -> None:
        # What count_sales would have made of every paid order counted so far (all but those
        # paid on the last day): sales counts, last sales, the 100 / 1,000 milestones.
        self.run("temp: units sold", """
            CREATE TEMP TABLE bench_units AS
            SELECT l.product_id, l.order_id, f.paid_at, sum(l.quantity)::int AS q
            FROM order_lines l JOIN order_facts f ON f.order_id = l.order_id
            WHERE f.counted GROUP BY l.product_id, l.order_id, f.paid_at""")
        self.run("products: sales counts", """
            UPDATE products p SET sales_count = s.units
            FROM (SELECT product_id, sum(q) AS units FROM bench_units GROUP BY product_id) s
            WHERE p.id = s.product_id""")
        # what count_sales adds to sales_days for each counted order
        self.run("sales_days: products", """
            INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views)
            SELECT f.paid_day, 'product', l.product_id, count(DISTINCT l.order_id), sum(l.quantity),
                   sum(l.total_minor), 0, 0
            FROM order_lines l JOIN order_facts f ON f.order_id = l.order_id
            WHERE f.counted AND l.total_minor > 0 GROUP BY f.paid_day, l.product_id""")
        self.run("sales_days: articles", """
            INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views)
            SELECT f.paid_day, 'article', l.source_article_id, count(DISTINCT l.order_id), 0,
                   sum(l.total_minor), 0, 0
            FROM order_lines l JOIN order_facts f ON f.order_id = l.order_id
            WHERE f.counted AND l.source_article_id IS NOT NULL GROUP BY f.paid_day, l.source_article_id""")
        self.run("sales_days: distributors", """
            INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views)
            SELECT f.paid_day, 'distributor', r.level1_id, count(*), 0, sum(f.total_minor), 0, 0
            FROM order_referrals r JOIN order_facts f ON f.order_id = r.order_id
            WHERE f.counted GROUP BY f.paid_day, r.level1_id""")
        self.run("sales_days: coupons", """
            INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views)
            SELECT f.paid_day, 'coupon', c.coupon_id, count(*), 0, sum(f.total_minor), sum(c.discount_minor), 0
            FROM user_coupons c JOIN order_facts f ON f.order_id = c.order_id
            WHERE f.counted AND c.status = 'used' GROUP BY f.paid_day, c.coupon_id""")
        self.run("acquisitions: paid to date", """
            UPDATE acquisitions a SET paid_orders = x.n, revenue_minor = x.revenue
            FROM (SELECT user_id, count(*) AS n, sum(total_minor - refunded_minor) AS revenue
                  FROM order_facts WHERE paid_day IS NOT NULL GROUP BY user_id) x
            WHERE a.user_id = x.user_id""")
        self.run("product_sales", """
            INSERT INTO product_sales (product_id, last_sold_at)
            SELECT product_id, max(paid_at) FROM bench_units GROUP BY product_id""")
        self.run("product_milestones", """
            INSERT INTO product_milestones (product_id, threshold, reached_at)
            SELECT c.product_id, m.t, c.paid_at
            FROM (SELECT product_id, paid_at, q,
                         sum(q) OVER (PARTITION BY product_id ORDER BY order_id) AS after
                  FROM bench_units) c
            JOIN (VALUES (100), (1000)) AS m(t) ON c.after - c.q < m.t AND m.t <= c.after""")

    # One row per hit, visitor-days in day order: first the landing page (with the visit's
    # source, if any), then page / product / article views a minute apart, then the
    # add-to-cart of the visits that placed an order (and of 1 in 10 of the others).
    HITS = f"""
        INSERT INTO hits (day, created_at, visitor, user_id, kind, product_id, article_id, source, ref_code,
                          utm_source, utm_medium, utm_campaign)
        SELECT day, created_at, visitor, NULL, kind,
               CASE WHEN kind IN ('product', 'cart') THEN 1 + floor({{PS}} * random() ^ 2)::int END,
               CASE WHEN kind = 'article' THEN 1 + floor({{A}} * random() ^ 2)::int END,
               source, ref_code,
               CASE WHEN source = 'utm' THEN ({sql_array(['wechat', 'weibo', 'xiaohongshu', 'douyin'])})[1 + utm] END,
               CASE WHEN source = 'utm' THEN 'social' END,
               CASE WHEN source = 'utm' THEN ({sql_array(['spring', '618', 'double11', 'newyear'])})[1 + utm] END
        FROM (SELECT v.day, v.utm,
                     (v.day::timestamp AT TIME ZONE '{{TZ}}')
                       + make_interval(secs => floor(v.r_start * (86400 - 60 * (v.n + 1))) + 60 * (k - 1)) AS created_at,
                     md5('bench-visitor-' || v.visitor_no) AS visitor,
                     CASE WHEN k = 1 THEN v.land_kind
                          WHEN k > v.views THEN 'cart'
                          ELSE {pick(['page'] * 8 + ['product'] * 9 + ['article'] * 3)} END AS kind,
                     CASE WHEN k = 1 THEN v.source END AS source,
                     CASE WHEN k = 1 THEN v.ref_code END AS ref_code
              FROM (SELECT v.*, v.views + (o.vd IS NOT NULL OR v.r_cart < 0.1)::int AS n
                    FROM bench_vd v LEFT JOIN (SELECT DISTINCT vd FROM bench_orders) o ON o.vd = v.vd) v,
                   generate_series(1, v.n) k) h"""


def fill(database_url: str, orders: int, page_views: int, days: int, tz: str):
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        job = Fill(conn, orders=orders, page_views=page_views, days=days, tz=tz)
        started = time.perf_counter()
        job.all()
        fill_seconds = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        vacuum_seconds = time.perf_counter() - started
        log(f"VACUUM (ANALYZE) in {vacuum_seconds:.1f}s")
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        counts["page views"] = conn.execute(
            "SELECT count(*) FROM hits WHERE kind <> 'cart'").fetchone()[0]
    return job, fill_seconds, vacuum_seconds, counts


def table_sizes(database_url: str) -> tuple[list[tuple[str, int, int, int]], int]:
    """[(table, rows (estimate), table bytes, with indexes bytes)], database bytes."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute("""
            SELECT c.relname, c.reltuples::bigint, pg_table_size(c.oid), pg_total_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
            ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 14""").fetchall()
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return rows, total


def vacuum(database_url: str, *tables: str) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    return time.perf_counter() - started


# --- the shop's own work: rollups and sales counts -----------------------------------------


def roll_up(app) -> dict:
    from shop.analytics import services
    from shop.db import db, utcnow

    with app.app_context():
        days = services.days_to_roll_up(utcnow())
        per_day = []
        started = time.perf_counter()
        for day in days:
            t = time.perf_counter()
            services.roll_up_day(day)
            db.session.commit()
            per_day.append(time.perf_counter() - t)
        total = time.perf_counter() - started
    return {"days": len(per_day), "seconds": total,
            "median_ms": 1000 * statistics.median(per_day) if per_day else 0,
            "max_ms": 1000 * max(per_day) if per_day else 0}


def count_sales(app) -> dict:
    """The sweeper's count_sales over every paid order not counted yet (those paid on the
    last day and after), one commit per order as the sweeper makes."""
    from shop.analytics import services
    from shop.db import db

    with app.app_context():
        done, started = 0, time.perf_counter()
        while ids := services.uncounted_order_ids():
            for order_id in ids:
                services.count_sales(order_id)
                db.session.commit()
                done += 1
        seconds = time.perf_counter() - started
    return {"orders": done, "seconds": seconds, "ms_per_order": 1000 * seconds / done if done else 0}


# --- timing the dashboard -----------------------------------------------------------------


def admin_cookie(app) -> str:
    """The session Flask-Login would have made for the admin (its identity bound to
    127.0.0.1 and AGENT, as "strong" session protection checks), signed with the app's key."""
    from flask import session
    from flask_login.utils import _create_identifier

    serializer = app.session_interface.get_signing_serializer(app)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": AGENT}):
        session.update({"_user_id": str(ADMIN_ID), "_fresh": True, "_id": _create_identifier()})
        return serializer.dumps(dict(session))


def pages(today: date) -> list[tuple[str, str, tuple]]:
    """[(label, path, in-process call)]: the call is (kind, start, end)."""
    out = []
    for label, n in RANGES:
        start = today - timedelta(days=n - 1)
        out.append((label, f"/admin/data/?start={start}&end={today}", ("dashboard", start, today)))
    out.append(("signals", "/admin/data/signals", ("signals", None, None)))
    start = today - timedelta(days=364)
    out.append(("export.csv 365 days",
                f"/admin/data/export.csv?start={start}&end={today}&table=products",
                ("export", start, today)))
    return out


def http_times(port: int, cookie: str, path: str, rounds: int) -> dict:
    def get() -> tuple[int, float, int]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("GET", path, headers={"Cookie": f"session={cookie}", "User-Agent": AGENT,
                                           "Accept-Language": "en"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, 1000 * (time.perf_counter() - started), len(body)

    status, _ms, _size = get()  # warm-up
    times, statuses, size = [], {status}, 0
    for _ in range(rounds):
        status, ms, size = get()
        statuses.add(status)
        times.append(ms)
    return {"median": statistics.median(times), "max": max(times), "statuses": statuses,
            "bytes": size}


class Statements:
    """SQL statements an engine runs, with their durations, while listening."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self.before)
        event.listen(self.engine, "after_cursor_execute", self.after)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        ms = 1000 * (time.perf_counter() - conn.info.pop("bench_started"))
        self.seen.append((ms, statement, parameters))


def in_process(app, call: tuple, rounds: int) -> dict:
    from shop.analytics import export, services
    from shop.db import db

    kind, start, end = call

    def once():
        if kind == "dashboard":
            services.dashboard(start, end)
        elif kind == "signals":
            services.signals()
        else:
            export.csv_text(*export.table(services.dashboard(start, end), "products"))

    times = []
    with app.test_request_context(headers={"Accept-Language": "en"}):
        once()  # warm-up
        db.session.rollback()
        for n in range(rounds):
            if n == rounds - 1:  # the last round also notes each statement's time
                with Statements(db.engine) as listened:
                    started = time.perf_counter()
                    once()
                    times.append(1000 * (time.perf_counter() - started))
            else:
                started = time.perf_counter()
                once()
                times.append(1000 * (time.perf_counter() - started))
            db.session.rollback()
    return {"median": statistics.median(times), "max": max(times),
            "statements": sorted(listened.seen, key=lambda s: -s[0])}


def explain(app, statement: str, parameters) -> str:
    from shop.db import db

    with app.app_context():
        rows = db.session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
        db.session.rollback()
    return "\n".join(r[0] for r in rows)


def headline(app, today: date) -> str:
    from shop.analytics import services

    with app.app_context():
        board = services.dashboard(today - timedelta(days=29), today)
        funnel = " > ".join(f"{name} {n}" for name, n in board.funnel)
        return (f"last 30 days: {board.visitors} visitors, {board.page_views} page views, "
                f"{board.orders} orders, {board.paid_orders} paid, GMV {board.gmv_minor / 100:,.2f}, "
                f"{board.paying_customers} paying customers ({board.returning_customers} returning), "
                f"repurchase {board.repurchase_bp / 100:.1f} %, {board.accounts} accounts; "
                f"funnel {funnel}; top product {board.products[0].name if board.products else '-'}, "
                f"{len(board.distributors)} distributors, {len(board.coupons)} coupons, "
                f"groups {board.groups_complete} complete / {board.groups_failed} failed")


# --- one size ------------------------------------------------------------------------------


def run_size(label: str, orders: int, page_views: int, args, server, database_url: str,
             env: dict, tmp: Path, state: dict) -> dict:
    from shop import create_app
    from shop.config import Config
    from shop.db import db

    print(f"\n=== {label}: {orders:,} orders, {page_views:,} page views over {args.days} days ===",
          flush=True)
    size_started = time.perf_counter()
    fresh_database(server, args.database)
    log(f"database {args.database} recreated")
    started = time.perf_counter()
    flask_cmd(env, "db", "upgrade")
    migrate_seconds = time.perf_counter() - started

    job, fill_seconds, vacuum_seconds, counts = fill(
        database_url, orders, page_views, args.days, Config.BABEL_DEFAULT_TIMEZONE)
    print(f"\nFill ({job.first_day} to {job.last_day}, {Config.BABEL_DEFAULT_TIMEZONE} days); "
          f"migrate {migrate_seconds:.1f}s")
    print(f"{'step':<32}{'rows':>12}{'seconds':>10}")
    for step, rows, seconds in job.steps:
        print(f"{step:<32}{rows:>12,}{seconds:>10.1f}")
    print(f"{'fill total':<32}{'':>12}{fill_seconds:>10.1f}")
    print(f"{'VACUUM (ANALYZE)':<32}{'':>12}{vacuum_seconds:>10.1f}")
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))

    app = state["app"] = state.get("app") or create_app()
    rolled = roll_up(app)
    vacuum_rollup = vacuum(database_url, "day_figures", "visitor_numbers", "order_facts", "sales_days",
                           "rollup_marks")
    counted = count_sales(app)
    print(f"\nRollup through services.roll_up_day: {rolled['days']} days in {rolled['seconds']:.1f}s "
          f"(median {rolled['median_ms']:.0f} ms a day, max {rolled['max_ms']:.0f} ms); "
          f"VACUUM (ANALYZE) of the tables it wrote {vacuum_rollup:.1f}s")
    print(f"count_sales over the orders paid on the last day and after: {counted['orders']:,} orders "
          f"in {counted['seconds']:.1f}s ({counted['ms_per_order']:.2f} ms an order)")

    sizes, total = table_sizes(database_url)
    print(f"\n{'table':<22}{'rows':>12}{'table MB':>10}{'+ indexes MB':>14}")
    for name, rows, table_bytes, all_bytes in sizes:
        print(f"{name:<22}{rows:>12,}{table_bytes / 2**20:>10.1f}{all_bytes / 2**20:>14.1f}")
    print(f"database {args.database}: {total / 2**20:,.0f} MB")
    print(headline(app, job.today))

    targets = pages(job.today)
    proc, base = start_gunicorn("wsgi:app", args.workers, env, tmp / "gunicorn.log")
    results: dict[str, dict] = {}
    load_before = os.getloadavg()[0]
    try:
        wait_until_up(proc, base, tmp / "gunicorn.log", timeout=60)
        port = int(base.rsplit(":", 1)[1])
        cookie = admin_cookie(app)
        for name, path, call in targets:  # both ways one after the other: the same conditions
            log(f"HTTP {name}: {path}")
            results[name] = {"http": http_times(port, cookie, path, args.rounds)}
            log(f"in-process {name}")
            results[name]["inproc"] = in_process(app, call, args.rounds)
    finally:
        stop(proc)

    print(f"\nDashboard as an admin sees it: gunicorn -w {args.workers} -k sync, one request at a "
          f"time, 1 warm-up + {args.rounds} rounds; in-process = services.dashboard() only "
          f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)")
    print(f"{'page':<22}{'HTTP median':>12}{'max':>8}{'status':>8}{'KB':>6}"
          f"{'in-proc median':>16}{'max':>8}{'statements':>12}")
    for name, r in results.items():
        h, p = r["http"], r["inproc"]
        statuses = ",".join(map(str, sorted(h["statuses"])))
        print(f"{name:<22}{h['median']:>12.0f}{h['max']:>8.0f}{statuses:>8}{h['bytes'] / 1024:>6.0f}"
              f"{p['median']:>16.0f}{p['max']:>8.0f}{len(p['statements']):>12}")
    bad = [n for n, r in results.items() if r["http"]["statuses"] != {200}]
    if bad:
        print(f"WARNING: not 200 for {', '.join(bad)}; gunicorn log tail:\n"
              f"{(tmp / 'gunicorn.log').read_text()[-3000:]}")

    over = [n for n, r in results.items() if r["http"]["median"] > args.budget]
    for name in over:
        statements = results[name]["inproc"]["statements"]
        print(f"\nOver budget: {name}; its slowest statements (in-process, last round), of "
              f"{sum(s[0] for s in statements):.0f} ms in all {len(statements)}:")
        for ms, statement, _params in statements[:8]:
            print(f"  {ms:8.1f} ms  {' '.join(statement.split())[:150]}")
    # EXPLAIN the slowest statements of the shortest range over budget (what to fix first)
    # and of the slowest page (what grows with the range)
    chosen = dict.fromkeys(over[:1] + ([max(over, key=lambda n: results[n]["http"]["median"])]
                                       if over else []))
    for name in chosen:
        for ms, statement, params in results[name]["inproc"]["statements"][:args.explain]:
            print(f"\nEXPLAIN (ANALYZE, BUFFERS), {name}, {ms:.0f} ms in the timed round:\n"
                  f"{statement}\nparameters: {params}\n{explain(app, statement, params)}")

    with app.app_context():
        db.engine.dispose()
    print(f"\n{label} done in {time.perf_counter() - size_started:.0f}s", flush=True)
    return {"results": results, "db_bytes": total, "fill": fill_seconds, "rolled": rolled,
            "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--hits", type=int, help="page views (default 10 x --orders); "
                        "add-to-cart hits come on top")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--small", action=argparse.BooleanOptionalAction, default=True,
                        help="also run 10 k orders / 100 k page views first (default on)")
    parser.add_argument("--rounds", type=int, default=5, help="timed requests per page")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--explain", type=int, default=3,
                        help="EXPLAIN ANALYZE the N slowest statements of the worst page over budget")
    parser.add_argument("--budget", type=float, default=BUDGET_MS, help="ms (default 1000)")
    parser.add_argument("--database", default="bench_data")
    parser.add_argument("--keep", action="store_true", help="keep the (last) database afterwards")
    args = parser.parse_args()
    if not 15 <= args.days <= 366:
        sys.exit("--days: 15 to 366 (the dashboard shows at most 366 days)")
    hits = args.hits if args.hits is not None else 10 * args.orders

    server_url, server, env, tmp = scratch_environment(args.database, "shop-bench-data-")
    database_url = env["DATABASE_URL"]

    import psycopg

    with psycopg.connect(f"{server_url}/postgres") as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in (
            "shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather",
            "jit")}
    print(f"PostgreSQL {version} ({', '.join(f'{k} {v}' for k, v in settings.items())}); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    sizes = ([("small", 10_000, 100_000)] if args.small else []) + [("large", args.orders, hits)]
    runs, state, started = {}, {}, time.perf_counter()
    try:
        for label, orders, page_views in sizes:
            runs[label] = (orders, page_views, run_size(label, orders, page_views, args, server,
                                                        database_url, env, tmp, state))
    finally:
        clean_up(state.get("app"), server, args.database, tmp, keep=args.keep)

    print(f"\nSummary: median ms of {args.rounds} requests after a warm-up (HTTP through gunicorn; "
          f"in-process = the queries alone); budget {args.budget:.0f} ms")
    heads = [f"{o / 1000:,.0f} k orders" if o < 1_000_000 else f"{o / 1e6:g} M orders"
             for o, _h, _r in runs.values()]
    print(f"{'page':<22}" + "".join(f"{h + ' HTTP':>20}{'in-proc':>9}" for h in heads)
          + "  budget (largest)")
    names = list(next(iter(runs.values()))[2]["results"])
    for name in names:
        cells, last = "", None
        for _o, _h, run in runs.values():
            r = run["results"][name]
            cells += f"{r['http']['median']:>20.0f}{r['inproc']['median']:>9.0f}"
            last = r["http"]["median"]
        print(f"{name:<22}{cells}  {'ok' if last <= args.budget else 'OVER'}")
    for label, (orders, page_views, run) in runs.items():
        print(f"{label}: {orders:,} orders, {run['counts']['page views']:,} page views "
              f"({run['counts']['hits']:,} hits), database {run['db_bytes'] / 2**20:,.0f} MB, "
              f"fill {run['fill']:.0f}s, rollup {run['rolled']['seconds']:.0f}s")
    print(f"whole run: {time.perf_counter() - started:.0f}s"
          + ("" if args.keep else f"; database {args.database} dropped"))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; gunicorn stopped, database dropped, temp dir removed")
