"""What a browser would post from one form of a page: for the tests of pages with several
forms (shop.web.forms): after another form of the page was refused, the untouched form
must still show what is stored, and posting it as shown must change nothing."""

from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict, list]] = []  # (the form's attributes, its controls)
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = (attrs, [])
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            self._form[1].append(("input", attrs))
        elif tag == "select":
            self._select = {"name": attrs.get("name"), "options": [],
                            "multiple": "multiple" in attrs}
            self._form[1].append(("select", self._select))
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "selected": "selected" in attrs, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {"name": attrs.get("name"), "text": ""}
            self._form[1].append(("textarea", self._textarea))

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None


def form_values(html: str, action: str) -> dict[str, list[str]]:
    """{name: [values]} a browser would submit from the form posting to `action` (the first
    one), untouched: text inputs as they are, checked boxes and radio buttons only, the
    selected options (or a single select's first one)."""
    parser = _Forms()
    parser.feed(html)
    for attrs, controls in parser.forms:
        if attrs.get("action") == action:
            break
    else:
        raise AssertionError(f"no form posts to {action}")
    values: dict[str, list[str]] = {}
    for kind, c in controls:
        if kind == "input":
            name, type_ = c.get("name"), c.get("type", "text").lower()
            if not name or type_ in ("submit", "button", "image", "file", "reset"):
                continue
            if type_ in ("checkbox", "radio") and "checked" not in c:
                continue
            values.setdefault(name, []).append(c.get("value", "on" if type_ in ("checkbox", "radio") else ""))
        elif kind == "select" and c["name"]:
            chosen = [o for o in c["options"] if o["selected"]]
            if not chosen and not c["multiple"] and c["options"]:
                chosen = c["options"][:1]
            for o in chosen:
                values.setdefault(c["name"], []).append(o["value"] if o["value"] is not None else o["text"])
        elif kind == "textarea" and c["name"]:
            text = c["text"][1:] if c["text"].startswith("\n") else c["text"]
            values.setdefault(c["name"], []).append(text)
    return values
