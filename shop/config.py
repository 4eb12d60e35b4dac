"""Settings. The embedded default needs nothing: SQLite under instance/, no keys, no network.

Production reads the environment: DATABASE_URL (PostgreSQL), REDIS_URL (cache, rate limits,
job queue), SECRET_KEY and the Stripe keys.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("SHOP_INSTANCE_PATH", ROOT / "instance"))


def normalise_database_url(url: str) -> str:
    """Heroku-style and bare PostgreSQL URLs use psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def ratelimit_storage(environ) -> str:
    """Where every process counts rate limits (see Config.RATELIMIT_STORAGE_URI)."""
    return (environ.get("RATELIMIT_STORAGE_URI") or environ.get("REDIS_URL")
            or f"shopfile://{INSTANCE / 'ratelimits.sqlite'}")


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'shop.db'}")
    )
    # A dropped PostgreSQL connection is replaced before use; SQLite files need no ping.
    SQLALCHEMY_ENGINE_OPTIONS = (
        {} if SQLALCHEMY_DATABASE_URI.startswith("sqlite") else {"pool_pre_ping": True}
    )
    REDIS_URL = os.environ.get("REDIS_URL", "")
    # Rendered fragments (shop.web.rendering.cached_blocks): Redis shared by all app
    # servers when REDIS_URL is set, otherwise each process keeps its own. Keys carry a
    # version read from the database, so a catalogue edit is seen at once everywhere;
    # the timeout bounds how long counters updated without a version bump (sales) lag.
    CACHE_TYPE = "RedisCache" if REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = REDIS_URL
    CACHE_KEY_PREFIX = "shop:"
    CACHE_DEFAULT_TIMEOUT = 300
    CACHE_THRESHOLD = 2000

    # How passwords are hashed (werkzeug.security): scrypt, memory-hard. Only the tests
    # use a cheap method, for their hundreds of made-up accounts.
    PASSWORD_METHOD = "scrypt"

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # The shop's public address: absolute links in shared previews (OpenGraph, canonical)
    # are built from it, never from the request's Host header, which a visitor controls.
    SHOP_BASE_URL = os.environ.get("SHOP_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # How many proxies (nginx, a load balancer) stand in front of the app: their
    # X-Forwarded-For/-Proto are then trusted, so rate limits see the visitor's address.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

    # Languages: English msgids, Chinese (Simplified) as the shop's home language.
    LANGUAGES = ("zh_Hans", "en")
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("SHOP_TIMEZONE", "Asia/Shanghai")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "shop" / "translations")

    # Money
    SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "CNY")
    SHOP_NAME = os.environ.get("SHOP_NAME", "")

    # Uploads: one image at most 5 MB; the request at most 12 MB (413 page past that).
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(INSTANCE / "media"))
    MAX_IMAGE_BYTES = 5 * 1024 * 1024
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    IMAGE_WIDTHS = (240, 480, 960)

    # Rate limits (Flask-Limiter): one store of counts for every process of a deployment
    # (shop.ratelimit): RATELIMIT_STORAGE_URI if set (redis://, shopfile://; memory:// is
    # refused at start-up, it would count per process), else Redis with REDIS_URL, else a
    # SQLite file beside the database, shared by the machine's workers.
    RATELIMIT_STORAGE_URI = ratelimit_storage(os.environ)
    RATELIMIT_HEADERS_ENABLED = True
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per minute;50 per hour")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute;20 per hour")
    # Sign-in codes by SMS (shop.accounts.phone): codes sent per number, per address and
    # in all (a day's cap on what the SMS gateway bills), and wrong guesses per code
    # (past it the code is burnt; a new one must be asked for).
    PHONE_CODE_RATE_LIMIT = os.environ.get("PHONE_CODE_RATE_LIMIT",
                                           "1 per minute;5 per hour;10 per day")
    PHONE_CODE_IP_RATE_LIMIT = os.environ.get("PHONE_CODE_IP_RATE_LIMIT",
                                              "5 per minute;20 per hour;50 per day")
    PHONE_CODE_DAILY_CAP = os.environ.get("PHONE_CODE_DAILY_CAP", "2000 per day")
    PHONE_CODE_GUESS_LIMIT = os.environ.get("PHONE_CODE_GUESS_LIMIT", "5 per 10 minutes")
    # Downloads of a shopper's data (shop.privacy), per account: each reads all their rows.
    DATA_EXPORT_RATE_LIMIT = os.environ.get("DATA_EXPORT_RATE_LIMIT", "3 per hour;10 per day")
    # Passkeys (shop.accounts.passkeys): the WebAuthn relying party ID, the shop's domain
    # (e.g. shop.example.com; passkeys made for it work on it and its subdomains). Empty:
    # the host each request was sent to. Not an IP address: WebAuthn refuses those, so the
    # default run offers passkeys at http://localhost:5000, not at 127.0.0.1.
    WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
    # Links sent by email (shop.accounts.email_links): how long a sign-in link, a password
    # reset link and an email confirmation link live, and the emails asked for per
    # address, per network address and in all (the three kinds count together).
    MAGIC_LINK_MINUTES = int(os.environ.get("MAGIC_LINK_MINUTES", "15"))
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
    EMAIL_CONFIRM_HOURS = int(os.environ.get("EMAIL_CONFIRM_HOURS", "24"))
    EMAIL_LINK_RATE_LIMIT = os.environ.get("EMAIL_LINK_RATE_LIMIT",
                                           "1 per minute;5 per hour;10 per day")
    EMAIL_LINK_IP_RATE_LIMIT = os.environ.get("EMAIL_LINK_IP_RATE_LIMIT",
                                              "5 per minute;20 per hour;50 per day")
    EMAIL_LINK_DAILY_CAP = os.environ.get("EMAIL_LINK_DAILY_CAP", "2000 per day")

    # Stripe (used from the commerce issue on)
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # empty: api.stripe.com
    # Stripe.js, loaded by the card form; the default run points it at localstripe's copy.
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")

    # Background jobs (shop.jobs): RQ on REDIS_URL, inline after the commit without it.
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "shop")
    SWEEP_SECONDS = int(os.environ.get("SWEEP_SECONDS", "60"))

    # Email (Flask-Mail). Without MAIL_SERVER nothing is sent: each message is written
    # to MAIL_OUTBOX (a folder of .eml files) and printed to the log instead.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "shop@example.com")
    MAIL_SUPPRESS_SEND = not MAIL_SERVER
    MAIL_OUTBOX = os.environ.get("MAIL_OUTBOX", str(INSTANCE / "outbox"))
    # SMS (shop.accounts.sms): "outbox" writes each message to MAIL_OUTBOX (a .txt file)
    # and the log, nothing leaves the machine; "twilio" posts it to Twilio's Messages API
    # (SMS_API_BASE for another host speaking it), from SMS_FROM.
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "outbox")
    SMS_API_BASE = os.environ.get("SMS_API_BASE", "https://api.twilio.com").rstrip("/")
    SMS_ACCOUNT_SID = os.environ.get("SMS_ACCOUNT_SID", "")
    SMS_AUTH_TOKEN = os.environ.get("SMS_AUTH_TOKEN", "")
    SMS_FROM = os.environ.get("SMS_FROM", "")

    PAGE_SIZE = 20
    # A searched word shows under hot searches once this many visitors searched it and
    # found something (one visitor alone never makes a word hot).
    SEARCH_HOT_MIN_VISITORS = 3
    # An unpaid order holds its stock this long; then the sweeper cancels it.
    ORDER_HOLD_MINUTES = int(os.environ.get("ORDER_HOLD_MINUTES", "30"))
    # A flash-sale order is held for less: an unpaid one gives its unit back sooner.
    FLASH_HOLD_MINUTES = int(os.environ.get("FLASH_HOLD_MINUTES", "15"))
    # Wrong pickup codes (shop.stores) a staff member may try before a pause: guessing
    # a 10-character code at this rate would take far longer than the codes live.
    PICKUP_GUESS_LIMIT = os.environ.get("PICKUP_GUESS_LIMIT", "10 per 10 minutes;30 per day")
    # Articles: how long a click from an article's product card credits the article with
    # what the shopper buys (shop.articles.attribution), and the default re-promotion
    # period for articles marked for it (the seeds advise pushing content every 15 days).
    ARTICLE_ATTRIBUTION_DAYS = int(os.environ.get("ARTICLE_ATTRIBUTION_DAYS", "7"))
    ARTICLE_REPROMOTE_DAYS = 15
    # A SKU on sale with this many units or fewer is "low stock" on the backoffice home.
    LOW_STOCK_THRESHOLD = int(os.environ.get("LOW_STOCK_THRESHOLD", "5"))
    # Share posters (shop.referrals.poster): a CJK font file; empty, a Debian CJK font.
    POSTER_FONT = os.environ.get("POSTER_FONT", "")
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # tests pass their own database
    # One round of PBKDF2 instead of scrypt's ~100 ms per check: the suite signs in some
    # 550 times. Production keeps scrypt (tests/accounts checks both).
    PASSWORD_METHOD = "pbkdf2:sha256:1"
    CACHE_TYPE = "SimpleCache"
    REDIS_URL = ""  # jobs inline; the RQ tests set it themselves
    STRIPE_SECRET_KEY = STRIPE_PUBLISHABLE_KEY = STRIPE_WEBHOOK_SECRET = STRIPE_API_BASE = ""
    MAIL_SERVER = ""
    MAIL_SUPPRESS_SEND = True
    SMS_PROVIDER = "outbox"
    SERVER_NAME = None
