"""Test harness: one database per xdist worker, built by the Alembic migrations.

- SQLite (default): a file per worker, so a live server thread sees the same data.
- PostgreSQL: TEST_DATABASE_URL names a server (any database on it); each worker creates
  a fresh database `shop_test_<run>_<worker>` and drops it at the end.
Every test gets a new app; tables are emptied after each test. Tests do not hold an app
context across requests (Flask-Login caches the user in `g`, which lives on the app
context): use `with app.app_context():` for direct database work, and the factories,
which open their own.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from werkzeug.serving import make_server

from shop import create_app
from shop.config import TestConfig, normalise_database_url
from shop.db import db

PG_SERVER = os.environ.get("TEST_DATABASE_URL", "")
RUN_ID = uuid.uuid4().hex[:8]


def pytest_collection_modifyitems(config, items):
    if PG_SERVER:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


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

    return Config


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{t}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.commit()


@pytest.fixture
def app(migrated, tmp_path, request):
    """The app for one test. After the test, every ledger is summed against its balance
    (shop.ledgers): a test whose data leave one off fails, unless it is marked
    `unbalanced` (a test that breaks a balance on purpose to see it reported)."""
    from shop import ledgers
    from tests import factories

    app = create_app(_config(migrated, tmp_path / "media"))
    app.test_client_class = ShopClient
    factories.use_app(app)
    yield app
    factories.use_app(None)
    with app.app_context():
        db.session.rollback()
        unbalanced = [] if request.node.get_closest_marker("unbalanced") else ledgers.check()
        _empty_tables()
        db.engine.dispose()
    assert not unbalanced, "ledgers that do not add up after the test:\n" + "\n".join(unbalanced)


class ShopClient(FlaskClient):
    """A test client that knows how to send forms with a CSRF token, as a browser does."""

    _TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')

    def csrf_token(self) -> str:
        html = self.get("/signin").get_data(as_text=True)
        match = self._TOKEN.search(html)
        assert match, "no CSRF token on the sign-in page"
        return match.group(1) or match.group(2)

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

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 1 号"}
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
    for label, key in ADDRESS_LABELS:
        page.get_by_label(label, exact=True).fill(ADDRESS[key])


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


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page (390x844) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


AXE = os.path.join(os.path.dirname(__file__), "..", "node_modules", "axe-core", "axe.min.js")
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page) -> None:
    """axe-core finds no WCAG 2 A/AA violation on the page as it is now."""
    page.add_script_tag(path=AXE)
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
