"""The share poster: size, picture, price, a QR code that decodes to the referral link,
the grey block without a picture, the build-once file cache, and a missing font."""

from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from shop.media.services import path_for, save_pixels
from shop.referrals import poster
from shop.referrals.poster import (
    HEIGHT, PLACEHOLDER, QR_BOX, RED, WIDTH, PosterError, cached_poster, render_poster,
)

pytestmark = pytest.mark.pages  # posters drawn as images (SQLite pass only)

# 30 characters: level M fits version 3, where segno would boost it to Q unless told not to
URL = "https://shop.example/r/7fK2pQ1"
GREEN = (20, 160, 90)


def _render(image_path=None, *, url=URL, title="小米 Redmi Note 13 5G 手机", price="¥1,299.00"):
    data = render_poster(image_path=image_path, title=title, price=price,
                         caption="小明 推荐", scan_hint="长按识别二维码", url=url)
    img = Image.open(io.BytesIO(data))
    assert (img.format, img.size) == ("PNG", (WIDTH, HEIGHT)) == ("PNG", (750, 1200))
    return img.convert("RGB")


def _qr_modules(img: Image.Image) -> list[list[bool]]:
    """The QR code in QR_BOX read back as dark/light modules, sampled at module centres.
    Its finder patterns put dark modules in three corners, so the dark pixels' bounding
    box is exactly the symbol."""
    left, top, size = QR_BOX
    box = img.crop((left, top, left + size, top + size)).convert("L")
    x0, y0, x1, y1 = box.point(lambda v: 255 if v < 128 else 0).getbbox()
    return [[box.getpixel((x, y)) < 128 for x in range(x0, x1)] for y in range(y0, y1)]


def _matches(modules: list[list[bool]], url: str) -> bool:
    matrix = segno.make(url, error="m", boost_error=False, micro=False).matrix
    n = len(matrix)
    if len(modules) % n or len(modules[0]) != len(modules):
        return False
    scale = len(modules) // n
    return all(
        modules[r * scale + scale // 2][c * scale + scale // 2] == bool(matrix[r][c])
        for r in range(n) for c in range(n)
    )


def test_poster_shows_the_picture_the_price_and_a_qr_code_of_the_link(app):
    with app.app_context():
        stored = save_pixels(Image.new("RGB", (1200, 800), GREEN))
        img = _render(path_for(stored.key, 960))

    for xy in [(5, 5), (375, 375), (744, 744)]:  # cover-cropped: the whole square
        assert all(abs(a - b) <= 8 for a, b in zip(img.getpixel(xy), GREEN)), xy
    assert img.getpixel((375, 760)) == (255, 255, 255)

    left, top, size = QR_BOX
    assert left + size <= WIDTH and top + size <= HEIGHT and top > 750
    modules = _qr_modules(img)
    assert _matches(modules, URL)
    assert not _matches(modules, URL + "x")  # the check tells URLs apart
    scale = len(modules) // len(segno.make(URL, error="m", boost_error=False).matrix)
    assert scale >= 3

    price_area = img.crop((40, top, left, top + 80))
    assert price_area.getcolors(1 << 16) and dict(
        (c, n) for n, c in price_area.getcolors(1 << 16)).get(RED, 0) > 200
    title_area = img.crop((40, 770, WIDTH - 40, top - 10))
    assert title_area.getextrema()[0][0] < 80  # dark title text is drawn
    assert RED not in {c for _, c in title_area.getcolors(1 << 16)}
    hint_area = img.crop((left, top + size, left + size, HEIGHT))
    assert hint_area.getextrema()[0][0] < 160  # the scan hint is drawn under the code


def test_without_a_readable_picture_the_top_is_a_grey_block(app, tmp_path):
    broken = tmp_path / "broken.webp"
    broken.write_bytes(b"RIFF\x00\x00not a webp")
    with app.app_context():
        for image_path in (None, broken, tmp_path / "missing.webp"):
            img = _render(image_path)
            assert {img.getpixel(xy) for xy in [(0, 0), (375, 375), (749, 749)]} == {PLACEHOLDER}
            assert _matches(_qr_modules(img), URL)


def test_long_titles_wrap_to_two_lines_with_an_ellipsis(app):
    with app.app_context():
        font = poster._font(poster._font_path(), 34)
    chinese = poster._wrap("超长标题" * 40, font, 670, max_lines=2)
    assert len(chinese) == 2 and chinese[1].endswith("…")
    assert all(font.getlength(line) <= 670 for line in chinese)
    assert "".join(chinese).rstrip("…") == ("超长标题" * 40)[: len("".join(chinese)) - 1]
    english = poster._wrap("Recommended " * 30, font, 670, max_lines=2)
    assert english[0].split() == ["Recommended"] * len(english[0].split())  # whole words
    assert english[1].endswith("…") and all(font.getlength(s) <= 670 for s in english)
    assert poster._wrap("短标题", font, 670, max_lines=2) == ["短标题"]


def test_cached_poster_is_built_once_and_written_whole(app, tmp_path):
    builds = []

    def build() -> bytes:
        builds.append(1)
        return b"\x89PNG poster bytes"

    key = "0123456789abcdef" * 4
    with app.app_context():
        first = cached_poster(key, build)
        second = cached_poster(key, build)
    assert first == second == tmp_path / "media" / "posters" / f"{key}.png"
    assert first.read_bytes() == b"\x89PNG poster bytes" and len(builds) == 1
    assert [p.name for p in first.parent.iterdir()] == [f"{key}.png"]  # no temp file left


def test_cached_poster_refuses_bad_keys_and_keeps_nothing_of_a_failed_build(app, tmp_path):
    def boom() -> bytes:
        raise RuntimeError("drawing failed")

    with app.app_context():
        for key in ["../../etc/passwd", "0123456789ABCDEF", "abc", "0123456789abcdef/x", "a" * 65]:
            with pytest.raises(ValueError):
                cached_poster(key, lambda: pytest.fail("built for a bad key"))
        with pytest.raises(RuntimeError):
            cached_poster("ab" * 8, boom)
    posters = tmp_path / "media" / "posters"
    assert not posters.exists() or list(posters.iterdir()) == []


def test_a_missing_font_raises_poster_error(app, tmp_path, monkeypatch):
    with app.app_context():
        app.config["POSTER_FONT"] = str(tmp_path / "nope.ttf")
        with pytest.raises(PosterError, match="nope.ttf"):
            _render()
        app.config["POSTER_FONT"] = None
        monkeypatch.setattr(poster, "FONT_CANDIDATES", (str(tmp_path / "none.ttc"),))
        with pytest.raises(PosterError, match="fonts-wqy-microhei"):
            _render()
