"""Every backoffice page fits a phone's screen (390x844), in English, with one of everything in the shop (tests/admin/world.py), no
page is wider than the window (a wide table scrolls inside its own box, the page itself
never pans sideways). All the pages that do not fit are reported at once."""

from __future__ import annotations

import os
import re

import pytest

from tests.admin.world import make_world, url_for_rule
from tests.conftest import PHONE
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e
# Set to a folder to keep a full-page screenshot of every page there, to look at them.
SHOTS = os.environ.get("NARROW_SHOTS")

# Not pages for people to read: CSV files, and the pickers' htmx fragments.
NOT_PAGES = {"analytics_admin.export_csv", "orders.admin_export", "admin.pick",
             "articles_admin.picker"}
# The layout viewport's width (on a phone, window.innerWidth grows with a page that is
# too wide, as the browser zooms out to show it all).
WIDTH = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# What sticks out: the innermost elements whose right edge is past the window's.
CULPRITS = """(width) => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > width + 0.5 && !e.closest(".table-scroll")
    && ![...e.children].some((c) => c.getBoundingClientRect().right > width + 0.5))
  .slice(0, 3).map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
    + (e.name ? `[name=${e.name}]` : ""))"""

# On a phone the orders' and customers' lists show each row as a card, all of its cells
# seen without scrolling sideways (true when the page shows such cards and they fit).
CARDS = """(width) => {
  const rows = [...document.querySelectorAll(".table.cards tbody tr")];
  return rows.length > 0 && rows.every((tr) => getComputedStyle(tr).display === "block"
    && [...tr.cells].every((td) => td.getBoundingClientRect().right <= width + 0.5));
}"""


def _page_urls(app, ids) -> list[str]:
    rules = sorted((rule for rule in app.url_map.iter_rules()
                    if "GET" in rule.methods
                    and getattr(app.view_functions[rule.endpoint], "required_roles", None)
                    and rule.endpoint not in NOT_PAGES),
                   key=lambda rule: rule.rule)
    return [url_for_rule(rule, ids) for rule in rules]


def _sign_in(page, email: str) -> None:
    """Through the form, whatever the page's language (by the fields' names)."""
    page.goto("/signin?next=/admin/")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/admin/")


def test_every_backoffice_page_fits_a_phone(app, phone, png_bytes):
    """In English, the wider of the two languages for a layout: a line of Chinese breaks
    between any two characters, an English word only at its ends, and its labels run
    longer (tests/admin/test_every_page.py renders every page in Chinese too). A
    desktop's 1280 px is wider than every page laid out for 390 (the backoffice's own flow
    runs there: test_backoffice_browser.py)."""
    locale = "en"
    ids = make_world(app)
    admin = UserFactory(role="admin")
    urls = _page_urls(app, ids)
    assert len(urls) > 60
    too_wide, cards = [], set()
    page = phone(locale, size=PHONE)
    # The world's images are names without files: serve one picture for all of them.
    picture = png_bytes().getvalue()
    page.route("**/media/**",
               lambda route: route.fulfill(content_type="image/png", body=picture))
    # nor is the tab's icon looked at: a page left before its icon came leaves the live
    # server a file it never closes (a ResourceWarning, which the suite makes an error)
    icon = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    page.route("**/static/img/icon.svg",
               lambda route: route.fulfill(content_type="image/svg+xml", body=icon))
    _sign_in(page, admin.email)
    for url in urls:
        answer = page.goto(url, wait_until="domcontentloaded")
        assert answer.status < 400, (url, answer.status)
        width, window = page.evaluate(WIDTH)
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-")
            page.screenshot(path=f"{SHOTS}/{locale}-{name}.png", full_page=True)
        assert window == PHONE["viewport"]["width"], url
        if page.evaluate(CARDS, window):
            cards.add(url)
        if width > window:
            culprits = ", ".join(page.evaluate(CULPRITS, window))
            too_wide.append(f"{locale} {url}: {width} px in a {window} px window ({culprits})")
    assert not too_wide, "\n".join(too_wide)
    assert cards == {"/admin/orders", "/admin/customers"}
