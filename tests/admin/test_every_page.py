"""Every backoffice page, in both languages, as an admin, with one of everything in the
shop (tests/admin/world.py): no page answers 500, and the Chinese pages show no English
string of the catalogue, nor any other English sentence. Then every backoffice form is
posted empty (invalid input): a clear answer, never a 500, in both languages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.admin.world import make_world, url_for_rule
from tests.conftest import signed_in

pytestmark = pytest.mark.pages  # every backoffice page in both languages (SQLite pass only)

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"zh_Hans": "zh-CN", "en": "en"}
# Pages that are not HTML for people to read.
NOT_PAGES = {"analytics_admin.export_csv"}
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,'][A-Za-z]{2,}){2,}")


class _Text(HTMLParser):
    """What a reader sees or hears: text, and the labels in attributes."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def _texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def _english_msgids() -> set[str]:
    with (ROOT / "shop/translations/zh_Hans/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    found = set()
    for message in catalog:
        text = message.id if isinstance(message.id, str) else message.id[0]
        chinese = message.string if isinstance(message.string, str) else message.string[0]
        if text and "%" not in text and re.search(r"[A-Za-z]{3}", text) and chinese != text:
            found.add(text)  # (a name kept as is in Chinese, such as "SKU", is not English)
    return found


ENGLISH = _english_msgids()


def untranslated(html: str) -> list[str]:
    """English on a Chinese page: a catalogue string shown as is, or a run of three
    English words (the shop's own data here is Chinese)."""
    return [text for text in _texts(html)
            if text in ENGLISH or ENGLISH_RUN.search(text)]


def _rules(app, method: str):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if method in rule.methods
                   and getattr(app.view_functions[rule.endpoint], "required_roles", None)
                   and rule.endpoint not in NOT_PAGES),
                  key=lambda rule: rule.rule)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_backoffice_page_renders_in_the_language(app, language):
    ids = make_world(app)
    client, _admin = signed_in(app, "admin")
    headers = {"Accept-Language": LANGUAGES[language]}
    rules = _rules(app, "GET")
    assert len(rules) > 60
    problems = []
    for rule in rules:
        url = url_for_rule(rule, ids)
        for htmx in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers | htmx)
            body = response.get_data(as_text=True)  # a streamed answer runs to its end
            if response.status_code >= 400:
                problems.append((url, htmx and "htmx", response.status_code))
                continue
            if language == "zh_Hans" and response.mimetype == "text/html":
                english = untranslated(body)
                if english:
                    problems.append((url, htmx and "htmx", english[:5]))
    assert not problems, problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_backoffice_form_answers_invalid_input_in_the_language(app, language):
    ids = make_world(app)
    client, _admin = signed_in(app, "admin")
    headers = {"Accept-Language": LANGUAGES[language]}
    token = client.csrf_token()
    problems = []
    for rule in _rules(app, "POST"):
        url = url_for_rule(rule, ids)
        for htmx in ({}, {"HX-Request": "true"}):
            response = client.post(url, data={"csrf_token": token}, headers=headers | htmx)
            if response.status_code >= 500:
                problems.append((url, htmx and "htmx", response.status_code))
            elif (language == "zh_Hans" and response.mimetype == "text/html"
                  and not 300 <= response.status_code < 400):  # a redirect is never read
                english = untranslated(response.get_data(as_text=True))
                if english:
                    problems.append((url, htmx and "htmx", english[:5]))
    assert not problems, problems
