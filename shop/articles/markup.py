"""Article bodies: Markdown in, sanitised HTML out, product embeds as markers.

Three layers, each enough on its own to keep scripts out:
1. check(): what the editor may save. Raw HTML and script-like link schemes are refused
   with a message (the form shows it and nothing is saved).
2. render(): CommonMark with raw HTML switched off (markdown-it-py escapes it), then nh3
   (ammonia) with an allow-list of tags, attributes and URL schemes. No script, style,
   iframe, event handler, `javascript:` URL or hx-*/data-hx-* attribute survives.
3. The article page fills the embed markers with cards drawn by our own template.

Embed syntax: a paragraph of its own holding `[[product:42]]`. The editor's product
picker inserts it. What counts as an embed is decided once, on the rendered HTML: the ids
checked at save time are exactly the cards the page draws (a marker in a code block is
text; one in a quote or list item is a card, and checked like any other).
"""

from __future__ import annotations

import re

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt

# After rendering, an embed is exactly this paragraph (text escaped, nothing inside).
EMBED_HTML = re.compile(r"<p>\[\[product:(\d{1,9})\]\]</p>")
MAX_EMBEDS = 20

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# A scheme that runs or embeds something, as written in the Markdown (link or autolink).
BAD_SCHEME = re.compile(r"(?i)(?:\]\(|<|\]:)\s*(?:javascript|vbscript|data|file|livescript)\s*:")

_render = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_detect = MarkdownIt("commonmark", {"html": True})  # only to find raw HTML, never to render



def _nest_headings(state) -> None:
    """Headings in a body nest under the page's h1 (the title) without skipping a level,
    whatever levels the editor typed: the first is an h2, and each is at most one level
    below the heading it follows ("#", "###", "##" become h2, h3, h3; "###" alone, h2),
    down to h4. Screen readers move through a page by its headings."""
    typed: list[int] = []  # the levels typed by the headings the current one sits under
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        level = int(token.tag[1])
        while typed and typed[-1] >= level:
            typed.pop()
        typed.append(level)
        tag = f"h{min(len(typed) + 1, 4)}"
        token.tag = tag
        state.tokens[index + 2].tag = tag  # heading_open, inline, heading_close


_render.core.ruler.push("nest_headings", _nest_headings)


def normalise(body: str) -> str:
    """Line ends as "\n": browsers send textareas with CRLF."""
    return body.replace("\r\n", "\n").replace("\r", "\n")


def _has_raw_html(body: str) -> bool:
    for token in _detect.parse(body):
        if token.type == "html_block":
            return True
        if any(child.type == "html_inline" for child in token.children or ()):
            return True
    return False


def check(body: str, parts: list[str | int] | None = None) -> list[str]:
    """What is wrong with a body an editor wants to save ([] when nothing). `parts`:
    split(render(body)), when the caller has rendered it already."""
    body = normalise(body)
    if parts is None:
        parts = split(render(body))
    problems = []
    if _has_raw_html(body):
        problems.append(_("Write the body in Markdown: HTML tags (such as <script> or <iframe>) "
                          "are not allowed."))
    if BAD_SCHEME.search(body):
        problems.append(_("Links and images may only point to http(s) addresses or pages of "
                          "the shop."))
    if sum(isinstance(part, int) for part in parts) > MAX_EMBEDS:
        problems.append(_("An article can embed at most %(n)d products.", n=MAX_EMBEDS))
    return problems


def ids_in(parts: list[str | int]) -> list[int]:
    """The product ids of a split body (the cards its page draws), in order, each once."""
    return list(dict.fromkeys(part for part in parts if isinstance(part, int)))


def embedded_ids(body: str) -> list[int]:
    return ids_in(split(render(body)))


def sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="nofollow noopener noreferrer",
                     strip_comments=True)


def render(body: str) -> str:
    """Sanitised HTML of a Markdown body, embeds left as <p>[[product:N]]</p>."""
    return sanitise(_render.render(normalise(body)))


def split(html: str) -> list[str | int]:
    """Stored HTML cut at its embeds: HTML strings and product ids, alternating."""
    parts: list[str | int] = []
    position = 0
    for match in EMBED_HTML.finditer(html):
        parts.append(html[position:match.start()])
        parts.append(int(match.group(1)))
        position = match.end()
    parts.append(html[position:])
    return [part for part in parts if part != ""]
