"""Where rate limits are counted comes from the environment, and a store that counts in
each process is refused at start-up (N workers would let N times the limit through)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pages  # start-up configuration (SQLite pass only)
ROOT = Path(__file__).resolve().parents[2]
SHOW = "from shop import create_app; print(create_app().config['RATELIMIT_STORAGE_URI'])"


def _start(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("RATELIMIT_STORAGE_URI", "REDIS_URL", "DATABASE_URL")}
    environment.update(SHOP_INSTANCE_PATH=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_the_store_comes_from_the_environment(tmp_path):
    assert _start(tmp_path).stdout.strip() == f"shopfile://{tmp_path / 'ratelimits.sqlite'}"
    assert _start(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3").stdout.strip() == \
        "redis://127.0.0.1:6379/3"
    assert _start(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3",
                  RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/4").stdout.strip() == \
        "redis://127.0.0.1:6379/4"


def test_a_store_in_each_process_is_refused(tmp_path):
    started = _start(tmp_path, RATELIMIT_STORAGE_URI="memory://")
    assert started.returncode != 0
    assert "RATELIMIT_STORAGE_URI=memory:// counts in each process" in started.stderr
