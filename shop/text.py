"""Text as people send it, checked at one boundary.

- Every query argument and form field of every request (and the URL's path) is refused
  with a 400 and a clear message when it holds a control character: NUL (which
  PostgreSQL cannot store), the other C0 and C1 controls, DEL. Tabs and line breaks are
  text. shop.web.lifecycle asks refused_input() before any view, so no view, form or
  query ever sees them.
- Names people are shown by (a nickname, a recipient's or a distributor's name) refuse
  characters that are invisible or turn the text around: zero-width spaces and joiners,
  and the bidirectional overrides and isolates (`abc\\u202egnp.exe` would read
  "abcexe.png"): shop.web.fields.PersonName, which uses INVISIBLE.
- Emails are compared and stored in one form: NFKC (full-width letters become plain
  ones), then lower case (shop.accounts.services.normalise_email).
"""

from __future__ import annotations

import re
import unicodedata

from flask import request
from flask_babel import gettext as _

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# zero-width space, non-joiner, joiner, LRM, RLM; embeddings and overrides; word joiner
# and invisible operators; isolates; the byte-order mark
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def has_control(text: str) -> bool:
    return bool(CONTROL.search(text))


def refused_input() -> str | None:
    """Why this request's text is refused (a message for the 400 page), or None."""
    if has_control(request.path):
        return _("The address holds characters that are not allowed.")
    for source in (request.args, request.form):
        for name, values in source.lists():
            if has_control(name) or any(has_control(value) for value in values):
                return _("Some of what you sent holds control characters (such as NUL), "
                         "which are not allowed. Remove them and try again.")
    return None


def normalise_email(email: str) -> str:
    """One form of an address for storing and comparing: NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", email or "").strip().lower()
