"""Test harness: one database per xdist worker, built by the Alembic migrations, and one
app per worker.

- SQLite (default): a file per worker, so a live server thread sees the same data.
- PostgreSQL: TEST_DATABASE_URL names a server (any database on it); each worker creates
  a fresh database `shop_test_<run>_<worker>` and drops it at the end.
- One app per worker (building one compiles ~180 routes: 70 ms), shared by its tests;
  after each test its configuration and extensions are put back as they were, its caches
  and rate limits emptied. A test that must register routes of its own asks for
  `fresh_app` instead (Flask refuses new routes once an app has served a request).
- After each test every ledger is summed against its balance (shop.ledgers), then the
  tables that have rows are emptied (DELETE in dependency order, the cheapest correct
  way: TRUNCATE of ~90 tables costs PostgreSQL more than a second) and the sequences that
  moved are reset, so every test starts from an empty database with ids from 1. Tests
  commit for real: live servers, parallel connections and jobs see what they wrote.
- Test users' passwords are hashed cheaply (TestConfig.PASSWORD_METHOD); production keeps
  scrypt (tests/accounts proves both).
Tests do not hold an app context across requests (Flask-Login caches the user in `g`,
which lives on the app context): use `with app.app_context():` for direct database
work, and the factories, which open their own.

Which pass runs what (`make test`): the SQLite pass runs everything it can; the
PostgreSQL pass runs what PostgreSQL can change: everything that touches the database,
and the concurrency tests (marked `postgres`), which need it. It does not run again the
browser tests (`e2e`) and the tests marked `pages`: what a page shows or a pure function
does (translations, markup, images, the URL map's role guards, import rules), which no
database behaviour changes; `pytest_collection_modifyitems` below deselects them there.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, event, text
from werkzeug.serving import make_server

from shop import create_app
from shop.config import TestConfig, normalise_database_url
from shop.db import db

PG_SERVER = os.environ.get("TEST_DATABASE_URL", "")
RUN_ID = uuid.uuid4().hex[:8]


# Files whose tests take seconds each (real parallel requests, browsers, randomised
# scenarios): run first, so that under xdist the two workers finish together instead of
# one waiting on a long test dealt out last.
LONG_FIRST = ("tests/concurrency/", "_ledger_property.py", "_race.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not ("e2e" in item.keywords  # the browser tests, wherever they are
                                     or any(part in item.nodeid for part in LONG_FIRST)))
    if PG_SERVER:  # the PostgreSQL pass: what PostgreSQL can change (see the docstring)
        left = [item for item in items if "pages" in item.keywords or "e2e" in item.keywords]
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if item not in left]
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def property_examples(count: int) -> int:
    """How many randomised scenarios (hypothesis examples) a property test that uses the
    database tries: `count` on SQLite, where the scenarios are searched; a third on the
    PostgreSQL pass, which repeats them for what PostgreSQL changes (types, constraints,
    locks), not to search further."""
    return max(5, count // 3) if PG_SERVER else count


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    if not PG_SERVER:
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/shop.db"
        return
    server = normalise_database_url(PG_SERVER)
    name = f"shop_test_{RUN_ID}_{worker_id}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory):
    """Create the schema once per worker the only way it is ever created: migrations."""
    from flask_migrate import upgrade

    app = create_app(_config(database_url, tmp_path_factory.mktemp("media0")))
    with app.app_context():
        upgrade()
        _empty_tables()  # rows a data migration made (the default shipping template): every test starts empty
        db.engine.dispose()
    return database_url


def _config(url: str, media) -> type:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        MEDIA_ROOT = str(media)
        MAIL_OUTBOX = str(media) + "-outbox"
        RATELIMIT_STORAGE_URI = f"shopfile://{media}-ratelimits.sqlite"  # as in the default run

    return Config


RESET_SEQUENCES = """DO $$ DECLARE moved text; BEGIN
  FOR moved IN SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename)
               FROM pg_sequences WHERE last_value IS NOT NULL
  LOOP PERFORM setval(moved, 1, false); END LOOP; END $$"""


def _empty_tables() -> None:
    """Empty the tables that have rows, children first, and reset the sequences that
    moved (PostgreSQL; SQLite reuses ids from the largest left, none once empty)."""
    tables = list(reversed(db.metadata.sorted_tables))
    probe = " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"
                               for t in tables)
    filled = set(db.session.scalars(text(probe)))
    deletes = [f'DELETE FROM "{table.name}"' for table in tables if table.name in filled]
    if db.engine.dialect.name == "postgresql":  # one round trip: the rows, then the sequences
        db.session.connection().exec_driver_sql(";\n".join(deletes + [RESET_SEQUENCES]))
    else:
        for delete in deletes:
            db.session.execute(text(delete))
    db.session.commit()


def _new_app(url: str, media) -> Flask:
    app = create_app(_config(url, media))
    app.test_client_class = ShopClient
    return app


@pytest.fixture(scope="session")
def _worker_app(migrated, tmp_path_factory):
    """The worker's one app, with its configuration and extensions as built."""
    app = _new_app(migrated, tmp_path_factory.mktemp("media"))
    yield app, dict(app.config), dict(app.extensions)
    with app.app_context():
        db.engine.dispose()


@contextmanager
def _one_test(app, request):
    """Around one test: the factories use its app; afterwards every ledger is summed
    against its balance (shop.ledgers: a test whose data leave one off fails, unless it
    is marked `unbalanced`, breaking a balance on purpose to see it reported), and the
    tables are emptied."""
    from shop import ledgers
    from tests import factories

    factories.use_app(app)
    try:
        yield app
    finally:
        factories.use_app(None)
        with app.app_context():
            db.session.rollback()
            unbalanced = [] if request.node.get_closest_marker("unbalanced") else ledgers.check()
            _empty_tables()
    assert not unbalanced, "ledgers that do not add up after the test:\n" + "\n".join(unbalanced)


@pytest.fixture
def app(_worker_app, tmp_path, request):
    """The worker's app for one test, with its own media folder and outbox; what the
    test changed of its configuration, extensions, cache and rate limits is undone."""
    from shop.extensions import cache, limiter

    app, config, extensions = _worker_app
    app.config.update(MEDIA_ROOT=str(tmp_path / "media"), MAIL_OUTBOX=str(tmp_path / "media-outbox"))
    os.makedirs(app.config["MEDIA_ROOT"], exist_ok=True)
    try:
        with _one_test(app, request):
            yield app
    finally:
        app.config.clear()
        app.config.update(config)
        for key in set(app.extensions) - set(extensions):
            del app.extensions[key]
        app.extensions.update(extensions)
        with app.app_context():
            cache.clear()
            limiter.reset()


@pytest.fixture
def fresh_app(migrated, tmp_path, request):
    """An app of the test's own, for a test that registers routes."""
    app = _new_app(migrated, tmp_path / "media")
    with _one_test(app, request):
        yield app
    with app.app_context():
        db.engine.dispose()


class ShopClient(FlaskClient):
    """A test client that knows how to send forms with a CSRF token, as a browser does."""

    def csrf_token(self) -> str:
        """A CSRF token for this client's session, made as Flask-WTF makes one (a secret
        kept in the session, signed with the app's key): forms whose page is not under
        test cost no page (a sign-in page was fetched for it ~900 times a pass)."""
        app = self.application
        with self.session_transaction() as session:
            secret = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps(secret)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def signin(self, email: str, password: str = "password123"):
        response = self.post_form("/signin", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response


@pytest.fixture
def client(app):
    return app.test_client()


def signed_in(app, role: str = "shopper"):
    from tests.factories import UserFactory

    user = UserFactory(role=role)
    client = app.test_client()
    client.signin(user.email)
    return client, user


# --- shared shopping steps ----------------------------------------------------------------

# 浙江省杭州市西湖区: the picker posts division codes (shop.divisions)
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "33", "city": "3301",
           "district": "330106", "detail": "文三路 1 号"}
# The same address as the checkout form's labels read in Chinese, for the browser tests.
ADDRESS_LABELS = [("收货人", "name"), ("手机号码", "phone"), ("省", "province"), ("市", "city"),
                  ("区/县", "district"), ("详细地址", "detail")]


@contextmanager
def counted_queries(app):
    """The SQL statements run inside the block (to check queries do not grow per item)."""
    statements = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def form_token(client, url: str) -> str:
    """The one-use token (name="token") of the form on the page at `url`."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', html).group(1)


def browser_sign_in(page, email: str, next_url: str) -> None:
    """Sign in through the form, then land on next_url."""
    from tests.factories import PASSWORD

    page.goto(f"/signin?next={next_url}")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{next_url}")


def browser_fill_address(page) -> None:
    """Type a new address; the picker's lists load by htmx (select_option waits for them)."""
    for label, key in ADDRESS_LABELS:
        box = page.get_by_label(label, exact=True)
        if key in ("city", "district"):  # its list came by htmx, which makes it live (its
            # change loads the next list) only as the swap settles: wait for that first
            page.locator(f"select[name={key}] option[value='{ADDRESS[key]}']").wait_for(state="attached")
            page.locator(".divisions:is(.htmx-added, .htmx-settling)").wait_for(state="detached")
        if key in ("province", "city", "district"):
            box.select_option(ADDRESS[key])
        else:
            box.fill(ADDRESS[key])


def browser_type_card(page, number: str) -> None:
    """Type a card into the card form's fields (number, expiry, CVC, postcode)."""
    fields = page.locator("#card-element input")
    fields.first.wait_for()
    for i, value in enumerate([number, "12", "30", "123", "310000"]):
        fields.nth(i).fill(value)


@pytest.fixture
def admin_client(app):
    return signed_in(app, "admin")[0]


@pytest.fixture
def shopper_client(app):
    return signed_in(app, "shopper")[0]


# --- live server and browser ------------------------------------------------------------


@pytest.fixture
def live_server(app):
    """The app served on a loopback port from a thread, for the browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(5)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Reported by every page the browser tests open, whatever they check: a Content-Security-
# Policy violation, a script error, a console error, a sub-resource (script, style, image,
# font) that failed to load. A document or htmx answer of 4xx is the shop refusing
# something on purpose and is not counted (Chromium logs it as "Failed to load resource").
_WATCH = """document.addEventListener("securitypolicyviolation", (e) =>
  window.__shopProblem(`CSP ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));"""
_SUBRESOURCES = {"script", "stylesheet", "image", "font", "media", "manifest"}


def watch_page(context, problems: list) -> None:
    """Collect what goes wrong on every page of this browser context into `problems`."""
    context.expose_function("__shopProblem", lambda text: problems.append(text))
    context.add_init_script(_WATCH)

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error on {message.location.get('url')}: {message.text}")

    def response(answer):
        if answer.status >= 400 and answer.request.resource_type in _SUBRESOURCES:
            problems.append(f"{answer.status} for {answer.request.resource_type} {answer.url}")

    def page_opened(page):
        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("response", response)

    context.on("page", page_opened)


@pytest.fixture
def phone(browser, live_server):
    """Opens phone-sized pages (390x844, each in its own browser context, so its own
    cookies) whose relative URLs go to the live server; after the test, none of them may
    have reported a problem (watch_page)."""
    contexts, problems = [], []

    def open_page(locale: str = "zh-CN", on=None, size=PHONE):
        context = (on or browser).new_context(base_url=live_server.url, locale=locale, **size)
        watch_page(context, problems)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def page(phone):
    """A phone-sized page whose relative URLs go to the live server (see phone)."""
    return phone()


AXE = os.path.join(os.path.dirname(__file__), "..", "node_modules", "axe-core", "axe.min.js")
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page) -> None:
    """axe-core finds no WCAG 2 A/AA violation on the page as it is now. (axe is run
    through the DevTools protocol, as the page's Content-Security-Policy allows no script
    tag it did not send.)"""
    if not page.evaluate("typeof window.axe === 'object'"):
        with open(AXE, encoding="utf-8") as source:
            page.evaluate(source.read())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_A_AA
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert not problems, f"axe on {page.url}:\n" + "\n".join(problems)


@pytest.fixture
def png_bytes():
    """A real PNG made with Pillow, as a fresh BytesIO each call."""
    import io

    from PIL import Image

    def make(size=(64, 48), color=(200, 30, 40)):
        buffer = io.BytesIO()
        Image.new("RGB", size, color).save(buffer, "PNG")
        buffer.seek(0)
        return buffer

    return make


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body built in memory. Werkzeug's test client spools large
    uploads to temp files it never closes; a prepared body avoids that for big files."""
    boundary = "shop-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- localstripe: the Stripe API double, on loopback ----------------------------------

WEBHOOK_SECRET = "whsec_shop_tests"


@pytest.fixture(scope="session")
def localstripe_url():
    """localstripe (an aiohttp app) served from a thread of this worker on a free
    loopback port; its objects live in this process's memory."""
    import asyncio
    import socket

    from aiohttp import web
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # keep it in memory: one per worker
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()

    def serve():
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(server.app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        loop.run_forever()

    threading.Thread(target=serve, daemon=True, name="localstripe").start()
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(50):
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1).close()
            break
        except OSError:
            import time

            time.sleep(0.1)
    yield url
    loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def stripe_app(app, localstripe_url):
    """The app with card payments on, against localstripe."""
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_shop", STRIPE_PUBLISHABLE_KEY="pk_test_shop",
        STRIPE_API_BASE=localstripe_url, STRIPE_JS_URL=f"{localstripe_url}/js.stripe.com/v3/",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    return app


@pytest.fixture
def stripe_webhook(stripe_app, live_server):
    """localstripe delivers its events, signed, to this test's live server."""
    from localstripe import webhooks

    webhooks.register_webhook("shop", f"{live_server.url}/stripe/webhook", WEBHOOK_SECRET, None)
    yield live_server
    webhooks._webhooks.pop("shop", None)
