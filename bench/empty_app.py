"""The baseline for bench/pages.py: Flask with one route returning an empty 200."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return ""
