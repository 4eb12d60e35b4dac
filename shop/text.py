"""Text as people send it, checked at one boundary.

- Every query argument, form field and uploaded file name of every request (and the
  URL's path) is refused with a 400 and a clear message when it holds a control
  character: NUL (which PostgreSQL cannot store), the other C0 and C1 controls, DEL.
  Tabs and line breaks are text, and so are the line and page breaks of pasted
  word-processor text in a form (made "\n" first). shop.web.lifecycle asks refused_input() before any view, so no view, form or
  query ever sees them.
- Names people are shown by (a nickname, a recipient's or a distributor's name) refuse
  characters that are invisible or turn the text around: zero-width spaces and joiners,
  and the bidirectional overrides and isolates (`abc\\u202egnp.exe` would read
  "abcexe.png"), fillers that show as a blank: shop.web.fields.PersonName, which uses
  has_invisible().
- Emails are compared and stored in one form: NFKC (full-width letters become plain
  ones), then lower case (shop.accounts.services.normalise_email).
"""

from __future__ import annotations

import re
import unicodedata

from flask import request
from flask_babel import gettext as _

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Line breaks as word processors write them (Word's and WPS's manual line break is a
# vertical tab, a page break a form feed; NEL is the C1 line break): pasted into a text
# area they are line breaks, and become "\n" before anything is checked.
LINE_BREAKS = re.compile("[\x0b\x0c\x85]")
# Shown as nothing, though Unicode calls them letters or marks: the Hangul fillers, the
# braille blank, the combining grapheme joiner, the Khmer inherent vowels.
BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")
ZWJ = "\u200d"
# Emoji a zero-width joiner may stand between (👨‍👩‍👧, 🏳️‍🌈): pictographs, with
# their variation selector (U+FE0F) and skin tones (in the first range) before the joiner.
EMOJI = re.compile("[\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]")


def has_control(text: str) -> bool:
    return bool(CONTROL.search(text))


def has_invisible(text: str) -> bool:
    """Whether a name holds a character that is invisible or turns the text around:
    every format character (Unicode category Cf: zero-width space and joiners, the
    bidirectional marks, embeddings, overrides and isolates, the Arabic letter mark, the
    soft hyphen, the byte-order mark, tags...), line and paragraph separators, and the
    characters in BLANK. A zero-width joiner between two emoji is how they combine, and
    is allowed there."""
    for index, char in enumerate(text):
        if char == ZWJ and 0 < index < len(text) - 1 and EMOJI.match(text[index - 1]) \
                and EMOJI.match(text[index + 1]):
            continue
        if char in BLANK or unicodedata.category(char) in ("Cf", "Zl", "Zp"):
            return True
    return False


def line_breaks_as_text() -> None:
    """Posted form values with a word processor's line breaks get them as "\n"."""
    form = request.form
    if any(LINE_BREAKS.search(value) for _name, value in form.items(multi=True)):
        request.form = type(form)((name, LINE_BREAKS.sub("\n", value))
                                  for name, value in form.items(multi=True))


def refused_input() -> str | None:
    """Why this request's text is refused (a message for the 400 page), or None."""
    if has_control(request.path):
        return _("The address holds characters that are not allowed.")
    sent = [(name, values) for source in (request.args, request.form)
            for name, values in source.lists()]
    sent += [(name, [upload.filename or "" for upload in uploads])  # the names of files
             for name, uploads in request.files.lists()]
    for name, values in sent:
        if has_control(name) or any(has_control(value) for value in values):
            return _("Some of what you sent holds control characters (such as NUL), "
                     "which are not allowed. Remove them and try again.")
    return None


def normalise_email(email: str) -> str:
    """One form of an address for storing and comparing: NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", email or "").strip().lower()
