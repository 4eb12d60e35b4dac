"""The shop: create_app() wires one named step per concern."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_request_context, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from shop.config import INSTANCE, ROOT, Config

BLUEPRINTS = (
    "shop.media.blueprint:bp",
    "shop.accounts.blueprint:bp",
    "shop.home.blueprint:bp",
    "shop.home.blueprint:admin_bp",
    "shop.catalog.blueprint:bp",
    "shop.catalog.blueprint:admin_bp",
    "shop.search.blueprint:bp",
    "shop.search.blueprint:admin_bp",
    "shop.cart.blueprint:bp",
    "shop.orders.blueprint:bp",
    "shop.wallet.blueprint:bp",
    "shop.payments.blueprint:bp",
    "shop.articles.blueprint:bp",
    "shop.articles.blueprint:admin_bp",
    "shop.referrals.blueprint:bp",
    "shop.referrals.blueprint:admin_bp",
    "shop.points.blueprint:bp",
    "shop.points.blueprint:admin_bp",
    "shop.members.blueprint:bp",
    "shop.members.blueprint:admin_bp",
    "shop.groups.blueprint:bp",
    "shop.favourites.blueprint:bp",
    "shop.groups.blueprint:admin_bp",
    "shop.bargains.blueprint:bp",
    "shop.bargains.blueprint:admin_bp",
    "shop.promotions.blueprint:bp",
    "shop.promotions.blueprint:admin_bp",
    "shop.stores.blueprint:bp",
    "shop.stores.blueprint:admin_bp",
    "shop.shipping.blueprint:admin_bp",
    "shop.analytics.blueprint:bp",
    "shop.analytics.blueprint:admin_bp",
    "shop.audit.blueprint:admin_bp",
    "shop.customers.blueprint:admin_bp",
    "shop.privacy.blueprint:bp",
    "shop.admin.blueprint:bp",
)


class IdConverter(IntegerConverter):
    """<int:...> in every route holds what an id column holds (1 to 2**31 - 1): a larger
    number is a 404, not an overflow in the database driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE),
    )
    app.url_map.converters["int"] = IdConverter
    configure(app, config)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    init_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def configure(app: Flask, config) -> None:
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    Path(app.config["MEDIA_ROOT"]).mkdir(parents=True, exist_ok=True)


def select_locale() -> str:
    config = current_app.config
    if not has_request_context():  # CLI, jobs: the shop's home language
        return config["BABEL_DEFAULT_LOCALE"]
    languages = config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    # Accept-Language says zh-CN / zh-Hans / en-US; map to our two catalogues.
    for lang, _quality in request.accept_languages:
        lang = lang.lower()
        if lang.startswith("zh"):
            return "zh_Hans"
        if lang.startswith("en"):
            return "en"
    return config["BABEL_DEFAULT_LOCALE"]


def _close_what_compression_replaces(response):
    """A static file is streamed; Flask-Compress swaps its file for a compressing
    generator, so the file is closed with the response instead of waiting for the
    garbage collector. (Registered after Flask-Compress, so it runs before it.)"""
    if response.is_streamed and hasattr(response.response, "close"):
        response.call_on_close(response.response.close)
    return response


def init_extensions(app: Flask) -> None:
    from shop.accounts.models import User
    from shop.extensions import (babel, cache, compress, csrf, db, htmx, limiter, login_manager,
                                 migrate)
    from shop.web import init_lifecycle

    # first: Flask runs after-request hooks last-registered first, so compression sees the
    # response once everything else (the commit, the headers, the audit log) is done
    compress.init_app(app)
    app.after_request(_close_what_compression_replaces)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    htmx.init_app(app)
    cache.init_app(app)
    from shop import ratelimit  # (its storage, shopfile://, registers with limits)

    ratelimit.check_storage(app.config["RATELIMIT_STORAGE_URI"])

    limiter.init_app(app)
    # The shop sets no default or application-wide limits, only per-route ones (sign-in,
    # registration, beacons), and Flask-Limiter checks those in the route's decorator.
    # The check it also adds before every request would find nothing to do, at about
    # 0.2 ms a request (a third of a progress poll, bench/group_progress.py).
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.signin"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(token: str):
        """The account a session holds ("<id>.<version>"), if that session is still its:
        an account disabled, or whose sessions were ended since (a sign-out anywhere, a
        password change), has none. A session from before versions ("<id>") is version 0."""
        user_id, _dot, version = token.partition(".")
        if not user_id.isdigit() or not (version.isdigit() or version == ""):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version or 0):
            return None
        return user

    init_lifecycle(app)
    from shop.web.security import init_security

    init_security(app)  # headers on every response, errors and static files included
    from shop.audit.recording import init_audit

    init_audit(app)  # after init_lifecycle: its hooks run around the edge's commit
    from shop.notices import init_notices

    init_notices(app)


def register_blueprints(app: Flask) -> None:
    from importlib import import_module

    for target in BLUEPRINTS:
        module, name = target.split(":")
        app.register_blueprint(getattr(import_module(module), name))


def register_errors(app: Flask) -> None:
    from shop.web import render_error

    from flask_babel import gettext as _
    from flask_wtf.csrf import CSRFError

    # Every HTTP error, CSRF failures (400) and unhandled exceptions (500) included.
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(CSRFError, lambda error: render_error(
        error, 400, _("The form has expired. Reload the page and try again.")))


def register_template_helpers(app: Flask) -> None:
    from shop.web.templating import init_templating

    init_templating(app)


def register_cli(app: Flask) -> None:
    from shop.cli import shop_cli

    app.cli.add_command(shop_cli)
