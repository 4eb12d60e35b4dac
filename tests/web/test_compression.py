"""Responses are compressed for browsers that say they take it (Flask-Compress), in the
default run as in production: pages, htmx fragments, and the static CSS and JavaScript."""

import gzip

import pytest

from tests.factories import product_with_skus

pytestmark = pytest.mark.pages  # response encoding (SQLite pass only)


def test_pages_and_static_files_are_compressed(app, client):
    with app.app_context():
        product, _skus = product_with_skus()
    plain = client.get(f"/p/{product.id}").get_data()
    response = client.get(f"/p/{product.id}", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    body = response.get_data()
    assert len(body) * 2 < len(plain)
    assert gzip.decompress(body).startswith(b"<!doctype html>")

    for path in ("/static/css/app.css", "/static/vendor/htmx.min.js"):
        with client.get(path, headers={"Accept-Encoding": "br, gzip"}) as response:
            assert response.headers["Content-Encoding"] == "br", path
            assert response.headers["Content-Security-Policy"], path


def test_nothing_is_compressed_for_a_client_that_does_not_ask(client):
    response = client.get("/")
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True).lstrip().startswith("<!doctype html>")
