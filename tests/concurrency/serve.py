"""One app process for the cross-process tests: `python -m tests.concurrency.serve` with
the database, the rate-limit storage and the secret in the environment (TEST_SERVE_*);
it prints its port, then serves on loopback until killed."""

import os
import sys

from werkzeug.serving import make_server

from shop import create_app
from shop.config import TestConfig


class Config(TestConfig):
    SQLALCHEMY_DATABASE_URI = os.environ["TEST_SERVE_DATABASE_URL"]
    RATELIMIT_STORAGE_URI = os.environ["TEST_SERVE_RATELIMIT_STORAGE_URI"]
    RATELIMIT_KEY_PREFIX = os.environ.get("TEST_SERVE_RATELIMIT_KEY_PREFIX", "")
    MEDIA_ROOT = os.environ["TEST_SERVE_MEDIA_ROOT"]


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, create_app(Config), threaded=True)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()
