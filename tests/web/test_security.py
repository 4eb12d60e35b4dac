"""Security headers on every response (shop.web.security), and templates that keep to the
Content-Security-Policy: no inline script, event handler or style attribute anywhere, so
the policy needs no 'unsafe-inline'. That the pages work under it in a real browser (htmx,
Stripe.js, the camera) is checked by every browser test (tests/conftest.py: phone)."""

import re
from pathlib import Path

import pytest
from PIL import Image

from shop.media.services import save_pixels
from tests.factories import product_with_skus

pytestmark = pytest.mark.pages  # headers and templates (SQLite pass only)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_headers(response, what: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert directives.get("frame-ancestors") == "'none'", (what, policy)
    assert directives.get("object-src") == "'none'", (what, policy)
    assert "'unsafe-inline'" not in directives["script-src"], (what, policy)
    assert "'unsafe-eval'" not in directives["script-src"], (what, policy)
    assert re.search(r"'nonce-[A-Za-z0-9_-]{16,}'", directives["script-src"]), (what, policy)
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", what
    assert "microphone=()" in headers.get("Permissions-Policy", ""), what


def test_every_kind_of_response_has_the_headers(app, client, shopper_client):
    with app.app_context():
        product, _skus = product_with_skus()
        stored = save_pixels(Image.new("RGB", (40, 30), "red"))
    answers = {
        "page": client.get("/"),
        "product page": client.get(f"/p/{product.id}"),
        "htmx fragment": client.get(f"/a/featuring/{product.id}", headers={"HX-Request": "true"}),
        "static file": client.get("/static/css/app.css"),
        "uploaded image": client.get(f"/media/{stored.key}-{stored.widths[0]}.webp"),
        "redirect": client.get("/me"),
        "404": client.get("/no-such-page"),
        "400 (control character)": client.get("/search?q=%00"),
        "CSRF refusal": shopper_client.post("/cart/add", data={"sku_id": "1"}),
        "signed in page": shopper_client.get("/me"),
    }
    assert answers["uploaded image"].status_code == 200
    assert answers["uploaded image"].mimetype == "image/webp"
    assert answers["404"].status_code == 404 and answers["CSRF refusal"].status_code == 400
    for what, response in answers.items():
        _assert_headers(response, what)
        response.close()  # the file responses


def test_each_response_has_its_own_nonce(client):
    first, second = (client.get("/").headers["Content-Security-Policy"] for _ in range(2))
    nonce = re.compile(r"'nonce-([^']+)'")
    assert nonce.search(first).group(1) != nonce.search(second).group(1)


def test_stripe_and_its_double_may_be_talked_to_and_nothing_else(app, client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "https://js.stripe.com" in policy  # real Stripe when no double is configured
    app.config.update(STRIPE_API_BASE="http://127.0.0.1:8420", STRIPE_JS_URL="http://127.0.0.1:8420/js.stripe.com/v3/")
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "http://127.0.0.1:8420" in policy and "stripe.com" not in policy


def test_hsts_only_when_the_site_is_served_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=31536000")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"hx-on[:-]|hx-vars=|hx-vals=['\"]\s*js:", re.I), "htmx evaluating script"),
]


def test_no_template_has_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, "\n".join(found)
