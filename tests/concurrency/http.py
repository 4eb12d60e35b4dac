"""Real HTTP for the race tests: a signed-in session cookie made without a request,
and a tiny urllib client (it follows redirects, so a 302 success reads as 200)."""

import re
import urllib.error
import urllib.parse
import urllib.request

from flask_login.utils import _create_identifier

AGENT = "race-test"


def session_cookie(app, user_id: int) -> str:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": AGENT}):
        identifier = _create_identifier()
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True, "_id": identifier})


def request(url, cookie, data=None):
    """(status, body, cookie to use next)."""
    body = urllib.parse.urlencode(data).encode() if data else None
    req = urllib.request.Request(url, data=body, headers={"Cookie": f"session={cookie}", "User-Agent": AGENT})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, text, set_cookie = response.status, response.read().decode(), response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        status, text, set_cookie = error.code, error.read().decode(), ""
    match = re.search(r"session=([^;]+)", set_cookie)
    return status, text, match.group(1) if match else cookie


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 or 303 stays what it was


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_answer(url: str, cookie: str, form: dict) -> tuple[int, str]:
    """A POST as it was answered (redirects not followed), in English: (status, body)."""
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers={
        "Cookie": f"session={cookie}", "User-Agent": AGENT, "Accept-Language": "en"})
    try:
        with _OPENER.open(req, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def form_fields(html: str, *names: str) -> dict:
    """The hidden fields of those names in the page (CSRF token, form token)."""
    found = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', html):
        name, value = re.search(r'name="([a-z_]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value:
            found.setdefault(name.group(1), value.group(1))
    return {name: found[name] for name in names}


def together(calls: list, timeout: float = 180) -> list:
    """Run each callable in its own thread, all released at once by a barrier; their
    results (or the exception each raised), in the order of `calls`."""
    import threading

    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a request or job hung"
    return results


def post_together(posts: list[tuple[str, str, dict]], timeout: float = 60) -> list[int]:
    """Send every (url, cookie, form) POST from its own thread, all released at once by a
    barrier; the status codes, in the order they came back."""
    import threading

    barrier, codes, lock = threading.Barrier(len(posts)), [], threading.Lock()

    def post(url, cookie, form):
        barrier.wait()
        status, _body, _ = request(url, cookie, form)
        with lock:
            codes.append(status)

    threads = [threading.Thread(target=post, args=args) for args in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return codes
