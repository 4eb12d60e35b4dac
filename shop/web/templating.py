"""Filters and globals the templates share."""

from __future__ import annotations

from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, get_translations
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from flask_babel import lazy_gettext as _l

from shop.money import format_minor, input_value

LANGUAGE_NAMES = {"zh_Hans": "简体中文", "en": "English"}

# The phone tab bar: (endpoint, label, icon).
TABS = (
    ("home.index", _l("Home"), "home"),
    ("catalog.categories", _l("Categories"), "grid"),
    ("articles.index", _l("Discover"), "book"),
    ("cart.view", _l("Cart"), "cart"),
    ("accounts.me", _l("Me"), "user"),
)


def money(amount_minor: int, currency: str | None = None) -> str:
    return format_minor(amount_minor, currency or current_app.config["SHOP_CURRENCY"])


def srcset(key: str, widths: str) -> str:
    return ", ".join(
        f"{url_for('media.serve', name=f'{key}-{w}.webp')} {w}w" for w in widths.split(",")
    )


def absolute_url(endpoint: str, **values) -> str:
    """A URL under SHOP_BASE_URL: the same for every visitor, so safe in a cache, and
    built from the URL map alone, so jobs and emails (no request) can use it too."""
    return current_app.config["SHOP_BASE_URL"] + current_app.url_map.bind("").build(endpoint, values)


def image_url(key: str, widths: str, want: int = 480) -> str:
    available = [int(w) for w in widths.split(",")]
    width = min((w for w in available if w >= want), default=max(available))
    return url_for("media.serve", name=f"{key}-{width}.webp")


def _translations():
    """The current locale's catalogue, looked up once per request and locale.

    Flask-Babel's Jinja callables resolve domain, locale and catalogue on every call, and
    a page makes dozens; this keeps the result on `g` while the locale stays the same
    (force_locale inside a request still gets its own catalogue)."""
    locale = get_locale()
    cached = g.get("_shop_translations")
    if cached is None or cached[0] is not locale:
        cached = g._shop_translations = (locale, get_translations())
    return cached[1]


def chrome(name: str, **slots: str) -> Markup:
    """A static block of templates/_chrome.html (top bar, tab bar and icons), rendered
    once per process, language and endpoint: the layout costs as much as a page body
    otherwise. Live values (the cart badge) fill its <!--slot:name--> markers.
    Re-rendered every time in debug, so template edits show."""
    parts = current_app.extensions.setdefault("shop_chrome", {})
    key = (name, str(get_locale()), request.endpoint)
    html = parts.get(key)
    if html is None or current_app.debug:
        html = parts[key] = render_block("_chrome.html", name, tabs=TABS)
    for slot, value in slots.items():
        html = html.replace(f"<!--slot:{slot}-->", str(value))
    return Markup(html)


def percent_bp(basis_points: int) -> str:
    """Basis points as a percentage in the reader's locale: 1250 -> 12.5%."""
    from decimal import Decimal

    from babel.numbers import format_percent

    return format_percent(Decimal(int(basis_points)).scaleb(-4), "#,##0.##%",
                          locale=str(get_locale() or "zh_Hans"))


def _days_and_time(days: int):
    """The translated pattern of "N days HH:MM:SS" for `days` (a plural, so by ngettext)."""
    return _translations().ungettext("%(num)d day %(time)s", "%(num)d days %(time)s", days)


def countdown_day_patterns() -> dict[str, str]:
    """The day patterns static/js/countdown.js fills in ({n} days, {t} the clock), one and
    other, so the ticking text reads like the server's in every language."""
    return {form: _days_and_time(n).replace("%(num)d", "{n}").replace("%(time)s", "{t}")
            for form, n in (("one", 1), ("other", 2))}


def time_left(deadline) -> str:
    """What is left until `deadline`: H:MM:SS under a day, else "6 days 23:39:34"
    ("6天23:39:34"); "" once it has passed."""
    from shop.db import utcnow

    seconds = int((deadline - utcnow()).total_seconds())
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    if not days:
        return f"{rest // 3600}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    clock = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    return _days_and_time(days) % {"num": days, "time": clock}


def init_templating(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["percent_bp"] = percent_bp
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["money_input"] = lambda m, c=None: input_value(
        m, c or current_app.config["SHOP_CURRENCY"]
    )
    app.jinja_env.globals.update(srcset=srcset, image_url=image_url, chrome=chrome,
                                 countdown_day_patterns=countdown_day_patterns,
                                 absolute_url=absolute_url,
                                 LANGUAGE_NAMES=LANGUAGE_NAMES)

    @app.context_processor
    def shell_context():
        return {
            "current_locale": str(get_locale()),
            "html_lang": "zh-Hans" if str(get_locale()).startswith("zh") else "en",
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
