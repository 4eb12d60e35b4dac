"""Text messages (sign-in codes), sent from a job after the commit, through one of two
providers (SMS_PROVIDER):

- "outbox", the default: nothing leaves the machine; the message is written to
  MAIL_OUTBOX as a .txt file, beside the emails, and logged, so `make run` needs no keys;
- "twilio": Twilio's Messages API (POST {SMS_API_BASE}/2010-04-01/Accounts/{sid}/
  Messages.json, HTTP basic auth with the account SID and token, a form body with To,
  From and Body). A gateway that answers anything but 2xx fails the job (logged)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _


class SmsError(RuntimeError):
    pass


def to_outbox(to: str, body: str) -> None:
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{time.time():.6f}-sms-{to.lstrip('+')}.txt"
    path.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
    current_app.logger.info("sms to %s: %s (written to %s)", to, body, path)


def by_twilio(to: str, body: str) -> None:
    config = current_app.config
    sid = config["SMS_ACCOUNT_SID"]
    url = f"{config['SMS_API_BASE']}/2010-04-01/Accounts/{urllib.parse.quote(sid)}/Messages.json"
    auth = base64.b64encode(f"{sid}:{config['SMS_AUTH_TOKEN']}".encode()).decode()
    data = urllib.parse.urlencode({"To": to, "From": config["SMS_FROM"], "Body": body}).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        with exc:
            detail = exc.read()[:300]
        raise SmsError(f"the SMS gateway answered {exc.code}: {detail!r}") from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SmsError(f"the SMS gateway could not be reached: {exc}") from None
    current_app.logger.info("sms to %s sent (%s)", to, answer.get("sid", "?"))


PROVIDERS = {"outbox": to_outbox, "twilio": by_twilio}


def send(to: str, body: str) -> None:
    PROVIDERS[current_app.config["SMS_PROVIDER"]](to, body)


def send_code(phone: str, code: str, locale: str | None = None) -> None:
    """Job: a sign-in code to its number, in the language of the page that asked for it
    (the shop's home language for a job queued without one)."""
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = _("%(code)s is your sign-in code. It is valid for 5 minutes; never share it.",
                 code=code)
    send(phone, body)
