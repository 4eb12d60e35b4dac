"""Store an image: prove it is one, strip everything but pixels, resize, name randomly.

Pillow decodes the upload fully (a truncated or fake file fails here), EXIF orientation is
applied and all metadata dropped by re-encoding, and each stored width is a WebP file
named <key>-<width>.webp under MEDIA_ROOT/<key[:2]>/.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shop.db import on_commit, on_rollback

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is a decompression bomb


class ImageError(ValueError):
    pass


@dataclass(frozen=True)
class StoredImage:
    key: str
    width: int
    height: int
    widths: tuple[int, ...]


def _media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def path_for(key: str, width: int) -> Path:
    return _media_root() / key[:2] / f"{key}-{width}.webp"


def forget_files(key: str, widths: str) -> None:
    """Delete a stored image's files ("240,480,960") once this transaction commits: the
    row that named them is gone by then. A rollback keeps them."""
    paths = [path_for(key, int(width)) for width in widths.split(",")]
    on_commit(lambda: _unlink(paths))


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def read_upload(stream, max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageError(
            _("The image is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024))
        )
    if not data:
        raise ImageError(_("The file is empty."))
    return data


def store_image(data: bytes) -> StoredImage:
    """Check, re-encode and store `data`; raise ImageError with a message for people."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise ImageError(_("Upload a JPEG, PNG, WebP or GIF image."))
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageError(_("The image has too many pixels."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageError(_("This file is not an image we can read.")) from None
    return save_pixels(img)


def save_pixels(img: Image.Image) -> StoredImage:
    """Resize `img` to the configured widths and write WebP files under a random key."""
    key = secrets.token_urlsafe(18)
    folder = _media_root() / key[:2]
    folder.mkdir(parents=True, exist_ok=True)
    widths = sorted({min(w, img.width) for w in current_app.config["IMAGE_WIDTHS"]})
    paths = [path_for(key, width) for width in widths]
    on_rollback(lambda: _unlink(paths))  # files of a transaction that failed go too
    for width, path in zip(widths, paths, strict=True):
        height = max(1, img.height * width // img.width)
        resized = img if width == img.width else img.resize((width, height), Image.LANCZOS)
        resized.save(path, "WEBP", quality=78, method=4)
    return StoredImage(key=key, width=img.width, height=img.height, widths=tuple(widths))
