"""Where rate limits are counted comes from the environment, and a store that counts in
each process is refused at start-up (N workers would let N times the limit through)."""

import pytest

from shop import create_app
from shop.config import INSTANCE, ratelimit_storage

pytestmark = pytest.mark.pages  # start-up configuration (SQLite pass only)


def test_the_store_comes_from_the_environment():
    assert ratelimit_storage({}) == f"shopfile://{INSTANCE / 'ratelimits.sqlite'}"
    assert ratelimit_storage({"REDIS_URL": "redis://r:6379/3"}) == "redis://r:6379/3"
    assert ratelimit_storage({"REDIS_URL": "redis://r:6379/3",
                              "RATELIMIT_STORAGE_URI": "redis://other:6379/4"}) == "redis://other:6379/4"


def test_a_store_in_each_process_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI=memory:// counts in each process"):
        create_app({"RATELIMIT_STORAGE_URI": "memory://", "MEDIA_ROOT": str(tmp_path)})
