"""Extension instances only; create_app() wires them to an app."""

from flask_babel import Babel
from flask_caching import Cache
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from shop.db import db, render_migration_item

migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_migration_item)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
cache = Cache()
limiter = Limiter(key_func=get_remote_address)
mail = Mail()

__all__ = ["db", "migrate", "login_manager", "csrf", "babel", "htmx", "limiter", "cache", "mail"]
