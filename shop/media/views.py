import re

from flask import abort, current_app, send_from_directory

from shop.media.blueprint import bp

_NAME = re.compile(r"^[A-Za-z0-9_-]{24}-\d{1,5}\.webp$")


@bp.get("/media/<name>")
def serve(name: str):
    """Serve a stored image. Names are random and never reused, so cache for a year."""
    if not _NAME.match(name):
        abort(404)
    folder = f"{current_app.config['MEDIA_ROOT']}/{name[:2]}"
    response = send_from_directory(folder, name, max_age=31536000)
    response.cache_control.immutable = True
    return response
