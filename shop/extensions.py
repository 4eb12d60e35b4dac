"""Extension instances only; create_app() wires them to an app."""

from flask import session
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from shop.db import db, include_in_migrations, render_migration_item



class ShopLoginManager(LoginManager):
    """Flask-Login with "strong" session protection for signed-in sessions only.

    Flask-Login checks the session against the visitor's address and browser on every
    request that looks at current_user, and an anonymous session that holds anything (a
    CSRF token, a cart) never matches, so it was rewritten on every response. Requests
    that run side by side (a POST adding to the cart and the product page's lazy
    fragments) then each sent back the session as they had read it, and the last one
    dropped what the POST had added. A session without a user has no identity to
    protect: it is left alone."""

    def _session_protection_failed(self):
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_migration_item,
                  include_object=include_in_migrations)
login_manager = ShopLoginManager()
csrf = CSRFProtect()
# Short dates as Chinese apps and the backoffice write them, the same in every language
# ("2026-12-08 05:04"): English's own short form, "12/8/26, 5:04 AM", reads two ways.
babel = Babel(date_formats={**Babel.default_date_formats, "datetime.short": "yyyy-MM-dd HH:mm",
                            "date.short": "yyyy-MM-dd"})
htmx = HTMX()
cache = Cache()
limiter = Limiter(key_func=get_remote_address)
mail = Mail()
compress = Compress()  # br/zstd/gzip for HTML, fragments, CSS and JS (static files included)

__all__ = ["db", "migrate", "login_manager", "csrf", "babel", "htmx", "limiter", "cache", "mail",
           "compress"]
