"""Every string shown to people goes through Flask-Babel and has a Chinese translation."""

import re

import pytest
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

pytestmark = pytest.mark.pages  # translations and pages in both languages (SQLite pass only)

ROOT = Path(__file__).resolve().parents[2]


def test_every_extracted_string_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
         "--ignore-dirs", ".*", "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with (ROOT / "shop/translations/zh_Hans/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and (m.string if isinstance(m.string, str) else m.string[0])
    }
    missing = sorted(wanted - translated)
    assert not missing, f"{len(missing)} strings lack a zh_Hans translation: {missing[:20]}"
    assert len(wanted) > 150
    assert "Previous" in wanted  # templates/_macros/ is read (Babel skips "_*" folders by default)


def test_pages_come_in_both_languages(client):
    zh = client.get("/categories", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.get("/categories", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in zh and "首页" in zh and "<span>Home</span>" not in zh
    assert '<html lang="en">' in en and "<span>Home</span>" in en and "首页" not in en


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_every_translation_formats_where_its_original_does(locale):
    """Jinja's newstyle gettext formats every template string with `%`, even without
    variables, so a bare "%" in a translation is a 500 on that page in that language
    ("优惠 20% 请填 2000。" was one). Wherever the original formats, the translation
    must too, and it may only use the original's placeholders."""
    path = ROOT / f"shop/translations/{locale}/LC_MESSAGES/messages.po"
    if not path.exists():
        pytest.skip(f"no {locale} catalog: the source strings are English")
    with path.open("rb") as f:
        catalog = read_po(f)
    broken = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not ids[0]:
            continue
        names = {name for text in ids for name in PLACEHOLDER.findall(text)}
        values = {name: 1 for name in names} | {"num": 1}
        try:
            for text in ids:
                text % values
        except (ValueError, TypeError, KeyError):
            continue  # a Python string shown without variables: never formatted
        for text in strings:
            if not text:
                continue
            try:
                text % values
            except (ValueError, TypeError, KeyError) as error:
                broken.append((ids[0], text, str(error)))
            if set(PLACEHOLDER.findall(text)) - names - {"num"}:
                broken.append((ids[0], text, "unknown placeholder"))
    assert not broken, broken[:10]
