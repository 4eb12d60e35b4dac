"""Security headers on every response (pages, fragments, errors, static files, media).

A small module rather than flask-talisman: the shop needs a handful of headers and one
nonce threaded into its templates, and writing them here keeps every value in one place
where the tests read them.

- Content-Security-Policy: everything from the shop itself; scripts only from the shop's
  files and Stripe.js (no inline script, no eval: the few scripts are files, and a
  `nonce` is there for any inline one a page must have, as `csp_nonce()` in templates);
  styles from the shop's stylesheet only (htmx's indicator styles are in app.css, and
  htmx does not copy `style` attributes when it settles a swap: see base.html's
  htmx-config); images from the shop and data: URLs (QR codes); the card
  form may talk to and frame Stripe (STRIPE_JS_URL's and STRIPE_API_BASE's origins: real
  Stripe, or localstripe on loopback); no framing of the shop (frame-ancestors 'none'),
  forms post only to the shop, no plugins, no <base>.
- X-Content-Type-Options: nosniff (uploads served from /media included), X-Frame-Options:
  DENY for old browsers, Referrer-Policy: strict-origin-when-cross-origin,
  Permissions-Policy: the camera (scanning pickup codes) and location (the nearest
  store) for the shop only, nothing else.
- Strict-Transport-Security when the session cookie is Secure (the shop is served over
  HTTPS).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, g

# Stripe's CSP guide (docs.stripe.com/security/guide#content-security-policy): Stripe.js
# from js.stripe.com and its subdomains, its frames there and on hooks.stripe.com (3-D
# Secure), its requests to api.stripe.com.
STRIPE_DEFAULTS = ("https://js.stripe.com", "https://*.js.stripe.com", "https://api.stripe.com",
                   "https://hooks.stripe.com")


def csp_nonce() -> str:
    """This response's nonce, for an inline <script nonce="..."> a page must have."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _stripe_origins() -> list[str]:
    config = current_app.config
    found = [_origin(config["STRIPE_JS_URL"]), _origin(config["STRIPE_API_BASE"])]
    if not config["STRIPE_API_BASE"]:
        found += list(STRIPE_DEFAULTS)
    return sorted({origin for origin in found if origin})


def policy() -> str:
    stripe = " ".join(_stripe_origins())
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}' {stripe}",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self' {stripe}",
        f"frame-src {stripe}",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ])


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=(), "
                                             "payment=(), usb=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_security(app: Flask) -> None:
    app.after_request(_headers)
    app.add_template_global(csp_nonce, "csp_nonce")
