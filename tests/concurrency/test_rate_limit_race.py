"""Rate limits hold across processes and count exactly: two app processes sharing the
limit storage (Redis, as in production, or the default's SQLite file), 30 parallel wrong
passwords for one account: exactly 10 are answered, 20 refused with 429. And 25
parallel wrong pickup codes: exactly the limit answered, the right codes among them all."""

import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.concurrency.http import form_fields, post_answer, request, together
from tests.factories import UserFactory

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _two_processes(app, storage_uri: str, prefix: str, tmp_path):
    import os

    env = dict(os.environ, TEST_SERVE_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               TEST_SERVE_RATELIMIT_STORAGE_URI=storage_uri,
               TEST_SERVE_RATELIMIT_KEY_PREFIX=prefix,
               TEST_SERVE_MEDIA_ROOT=str(tmp_path / "served-media"))
    processes = [subprocess.Popen([sys.executable, "-m", "tests.concurrency.serve"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        yield [f"http://127.0.0.1:{int(p.stdout.readline())}" for p in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait(10)
            process.stdout.close()


@pytest.mark.parametrize("storage", ["redis", "file"])
def test_thirty_parallel_wrong_passwords_on_two_processes_get_exactly_ten_answers(app, tmp_path, storage):
    user = UserFactory()
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    uri = ("redis://127.0.0.1:6379/0" if storage == "redis"
           else f"shopfile://{tmp_path / 'shared-ratelimits.sqlite'}")
    with _two_processes(app, uri, prefix, tmp_path) as (first, second):
        status, html, cookie = request(f"{first}/signin", "")
        assert status == 200
        form = dict(form_fields(html, "csrf_token"), email=user.email, password="wrong-password")
        answers = together([lambda url=url: post_answer(f"{url}/signin", cookie, form)
                            for url in [first, second] * 15])
    codes = sorted(code for code, _body in answers)
    assert codes == [422] * 10 + [429] * 20, codes


def test_twenty_five_parallel_wrong_pickup_codes_get_exactly_the_limit(app, live_server):
    """Wrong codes count per staff member and store, atomically: of 25 in parallel exactly
    the limit are answered (404), the rest refused (429); five right codes sent among
    them are all answered (200), never counted nor refused."""
    from tests.concurrency.http import session_cookie
    from tests.factories import StoreFactory
    from tests.stores.helpers import paid_pickup, staff_at

    app.config["PICKUP_GUESS_LIMIT"] = "10 per 10 minutes"
    store = StoreFactory()
    right = [paid_pickup(app, store)[3] for _ in range(5)]
    staff = staff_at(store)
    cookie = session_cookie(app, staff.id)
    status, html, cookie = request(f"{live_server.url}/admin/pickup", cookie)
    assert status == 200
    csrf = form_fields(html, "csrf_token")
    codes = [f"WRONG{n:05d}" for n in range(25)]
    codes[3:3] = right[:2]
    codes[20:20] = right[2:]
    answers = together([lambda c=c: post_answer(f"{live_server.url}/admin/pickup/look-up", cookie,
                                                dict(csrf, store_id=str(store.id), code=c))
                        for c in codes])
    by_code = dict(zip(codes, (status for status, _body in answers)))
    assert [by_code[c] for c in right] == [200] * 5, answers
    wrong = sorted(status for c, status in by_code.items() if c not in right)
    assert wrong == [404] * 10 + [429] * 15, wrong
    refused = [body for c, (status, body) in zip(codes, answers) if status == 429]
    assert all("Wait 10 minutes" in body or "10 分钟" in body for body in refused), refused[0][:600]
