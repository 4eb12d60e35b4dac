"""The share poster: one PNG a shopper saves to the phone and posts in a chat or feed.

Chat apps strip links from pictures, so the poster carries everything itself: the product
picture, its title and price, who recommends it, and a QR code of the referral link that
a phone camera can scan from a screenshot. Layout (750 x 1200 px, white):

    +--------------------------+
    |  picture, 750 x 750      |   cover-cropped; a grey block when there is none
    +--------------------------+
    |  title (<= 2 lines, ...) |
    |  price, big, red   +----+|
    |                    | QR ||   QR_BOX: whole modules, black on white, level M
    |  caption           +----+|
    |                  scan hint|
    +--------------------------+

Text is Chinese as often as not, and Chinese has no spaces, so lines are broken by
measuring characters with the font. The fonts come from POSTER_FONT or a Debian CJK font
package; without one the poster cannot be drawn and PosterError says what to install.
A poster is drawn once per content: cached_poster() keeps it under MEDIA_ROOT/posters/.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import segno
from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

WIDTH, HEIGHT = 750, 1200
MARGIN = 40
PICTURE = WIDTH  # the picture is a WIDTH x WIDTH square at the top
PLACEHOLDER = (238, 238, 238)  # the grey block drawn when there is no picture
RED = (0xE4, 0x39, 0x3C)  # the shop red, for the price
INK = (34, 34, 34)
MUTED = (119, 119, 119)

# The QR code's square (left, top, size): the code is drawn in whole-pixel modules,
# centred in it, with its 2-module white border inside the square.
QR_SIZE = 220
HINT_HEIGHT = 36
QR_BOX = (WIDTH - MARGIN - QR_SIZE, HEIGHT - MARGIN - HINT_HEIGHT - QR_SIZE, QR_SIZE)
QR_BORDER = 2
QR_MIN_MODULE = 3  # px; smaller modules do not scan reliably from a screenshot

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

ELLIPSIS = "…"


class PosterError(RuntimeError):
    """The poster cannot be drawn on this server (e.g. no font for Chinese text)."""


def render_poster(*, image_path: Path | None, title: str, price: str, caption: str,
                  scan_hint: str, url: str) -> bytes:
    """The poster as optimised PNG bytes. `price`, `caption` and `scan_hint` are text
    ready to show (formatted, translated); `url` is what the QR code encodes."""
    font_path = _font_path()
    poster = Image.new("RGB", (WIDTH, HEIGHT), "white")
    poster.paste(_picture(image_path), (0, 0))
    draw = ImageDraw.Draw(poster)
    text_width = WIDTH - 2 * MARGIN
    left_width = QR_BOX[0] - MARGIN - 24  # the column left of the QR code

    title_font = _font(font_path, 34)
    for n, line in enumerate(_wrap(title, title_font, text_width, max_lines=2)):
        draw.text((MARGIN, PICTURE + 32 + n * 48), line, font=title_font, fill=INK)

    price_font = _font(font_path, 60)
    price_line = _wrap(price, price_font, left_width, max_lines=1)
    draw.text((MARGIN, QR_BOX[1]), "".join(price_line), font=price_font, fill=RED)

    caption_font = _font(font_path, 28)
    caption_line = "".join(_wrap(caption, caption_font, left_width, max_lines=1))
    draw.text((MARGIN, QR_BOX[1] + QR_SIZE - 28), caption_line, font=caption_font, fill=MUTED)

    left, top, size = QR_BOX
    qr = _qr_image(url)
    offset = (size - qr.width) // 2
    poster.paste(qr, (left + offset, top + offset))

    hint_font = _font(font_path, 22)
    hint = "".join(_wrap(scan_hint, hint_font, size, max_lines=1))
    draw.text((left + size // 2, top + size + 8), hint, font=hint_font, fill=MUTED, anchor="mt")

    out = io.BytesIO()
    poster.save(out, "PNG", optimize=True)
    return out.getvalue()


def cached_poster(key: str, build: Callable[[], bytes]) -> Path:
    """The poster file for `key` (a hex digest of everything drawn on it), built once.

    It is written to a temp file in the same folder and renamed into place, so a reader
    never sees half a file; two concurrent builders both write and the last rename wins
    with identical bytes."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", key):
        raise ValueError(f"poster key must be 16-64 lowercase hex digits, not {key!r}")
    folder = Path(current_app.config["MEDIA_ROOT"]) / "posters"
    path = folder / f"{key}.png"
    if path.is_file():
        return path
    data = build()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- pieces ------------------------------------------------------------------------------


def _font_path() -> str:
    configured = current_app.config.get("POSTER_FONT")
    if configured:
        if not os.path.isfile(configured):
            raise PosterError(_("The poster font %(path)s does not exist.", path=configured))
        return str(configured)
    for candidate in FONT_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    raise PosterError(_(
        "No font for Chinese text is installed, so share posters cannot be drawn: "
        "install the Debian package fonts-wqy-microhei or set POSTER_FONT."
    ))


@functools.lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        raise PosterError(_("The poster font %(path)s cannot be read.", path=path)) from None


def _picture(image_path: Path | None) -> Image.Image:
    """The product picture cover-cropped to the top square, or the grey block."""
    if image_path is not None:
        try:
            with Image.open(image_path) as img:
                img.load()
                rgba = img.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, "white")
            flat.alpha_composite(rgba)
            return ImageOps.fit(flat.convert("RGB"), (PICTURE, PICTURE), Image.LANCZOS)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            pass  # a missing or broken file: the poster is still useful without it
    return Image.new("RGB", (PICTURE, PICTURE), PLACEHOLDER)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, *, max_lines: int) -> list[str]:
    """`text` broken into at most `max_lines` lines no wider than `width` px, measured
    character by character (Chinese has no spaces); a Latin word is not split when the
    line has a space to break at. Text that does not fit ends in an ellipsis."""
    text = " ".join(text.split())
    lines: list[str] = []
    while text and len(lines) < max_lines:
        end = 1
        while end < len(text) and font.getlength(text[:end + 1]) <= width:
            end += 1
        if end < len(text):
            space = text.rfind(" ", 0, end + 1)
            if space > 0 and text[end] != " " and text[end - 1] != " ":
                end = space
        lines.append(text[:end].rstrip())
        text = text[end:].lstrip()
    if text and lines:
        last = lines[-1]
        while last and font.getlength(last + ELLIPSIS) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + ELLIPSIS
    return lines


def _qr_image(url: str) -> Image.Image:
    """`url` as a QR code (level M, 2-module border) in whole-pixel modules that fit
    QR_SIZE."""
    qr = segno.make(url, error="m", boost_error=False, micro=False)
    modules = qr.symbol_size(scale=1, border=QR_BORDER)[0]
    scale = QR_SIZE // modules
    if scale < QR_MIN_MODULE:
        raise ValueError(f"the URL is too long for the poster's QR code ({len(url)} characters)")
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=QR_BORDER, dark="black", light="white")
    out.seek(0)
    with Image.open(out) as img:
        return img.convert("RGB")
