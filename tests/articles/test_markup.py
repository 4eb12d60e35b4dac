"""A corpus of hostile bodies: whatever an editor types, the rendered body holds nothing
that runs; and what can be refused at save time is refused with a message."""

import re
from html.parser import HTMLParser

import pytest

from shop.articles import markup

pytestmark = pytest.mark.pages  # markup rendering: pure functions (SQLite pass only)

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle r=1></svg>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"x.swf\"></object><embed src=x.swf>",
    "<style>body{display:none}</style>",
    "<p style=\"position:fixed;inset:0;background:url(javascript:alert(1))\">x</p>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<div hx-get=\"/admin\" hx-trigger=\"load\">x</div>",
    "<div data-hx-post=\"/cart/add\" data-hx-trigger=\"load\">x</div>",
    "<button hx-on:click=\"alert(1)\">x</button>",
    "<a href=\"/x\" hx-boost=\"true\" onclick=\"alert(1)\">x</a>",
    "<form action=\"/cart/add\" method=\"post\"><input name=sku_id value=1></form>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<!--<img src=x onerror=alert(1)>-->",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "[[product:1]]<script>alert(1)</script>",
    "<p>[[product:1]]</p><img src=x onerror=alert(1)>",
    "**bold** <b onmouseover=alert(1)>x</b>",
    "<template><script>alert(1)</script></template>",
    "<video><source onerror=alert(1)></video>",
    "<x-tag is=\"x\" onfocus=alert(1) autofocus>",
    "[x](https://ok.example \"title\" onclick=alert(1))",
    "<a href=\"http://ok.example\" target=_blank>ok</a>",
]

BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")


class Inspector(HTMLParser):
    """Collects everything in rendered HTML that could run or restyle the page."""

    BAD_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "button",
                "svg", "math", "meta", "base", "link", "template", "video", "source", "details",
                "body", "noscript", "textarea", "select"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BAD_TAGS or "-" in tag:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction") \
                    or name.startswith(("hx-", "data-hx-", "data-")):
                self.problems.append(f"attribute {name}")
            if name in ("href", "src", "action") and value and \
                    value.strip().lower().replace("\t", "").startswith(BAD_SCHEMES):
                self.problems.append(f"url {name}={value}")

    handle_startendtag = handle_starttag


def executable_parts(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


@pytest.mark.parametrize("body", HOSTILE)
def test_no_hostile_body_renders_anything_executable(body):
    html = markup.render(body)
    assert executable_parts(html) == [], html
    assert "<script" not in html.lower()  # as text it is escaped: &lt;script


def test_the_inspector_does_see_what_it_looks_for():
    """The check above can fail: unsanitised markup trips it."""
    for raw in ("<script>x</script>", '<img src=x onerror="a()">', '<a href="javascript:a()">x</a>',
                '<div hx-get="/x">', '<p style="color:red">', "<iframe src=x>"):
        assert executable_parts(raw), raw


@pytest.mark.parametrize("body", [b for b in HOSTILE if "<" in b.replace("<javascript:", "")
                                  or "javascript:" in b.lower() or "vbscript:" in b or "data:" in b])
def test_raw_html_and_script_links_are_refused_at_save_time(body):
    if body.startswith(("`", "```")):  # code shows it as text: allowed
        assert markup.check(body) == []
        return
    assert markup.check(body), body


def test_ordinary_markdown_passes_and_renders():
    body = ("## 挑选\n\n**果皮紧致**的芒果，[看这里](https://example.com/a)。\n\n"
            "- 一\n- 二\n\n| 品种 | 价格 |\n|---|---|\n| 贵妃 | 29.9 |\n\n"
            "![图](/media/ab-480.webp)\n\n3 < 5 and a > b\n")
    assert markup.check(body) == []
    html = markup.render(body)
    assert "<h2>挑选</h2>" in html  # the page's h1 is the title: body headings start lower
    assert '<a href="https://example.com/a" rel="nofollow noopener noreferrer">看这里</a>' in html
    assert "<table>" in html and '<img src="/media/ab-480.webp" alt="图">' in html
    assert "3 &lt; 5 and a &gt; b" in html


def test_headings_nest_under_the_title_without_skipping_a_level():
    body = "### 一\n\n文\n\n# 二\n\n### 三\n\n## 四\n\n#### 五\n\n###### 六\n"
    tags = re.findall(r"<(h\d)>(\S+?)</h\d>", markup.render(body))
    assert tags == [("h2", "一"), ("h2", "二"), ("h3", "三"), ("h3", "四"), ("h4", "五"),
                    ("h4", "六")]


def test_embeds_are_found_once_each_and_split_out_of_the_html():
    body = "前言\n\n[[product:12]]\n\n中间\n\n  [[product:7]]  \n\n[[product:12]]\n\n文中 [[product:9]] 不算"
    assert markup.embedded_ids(body) == [12, 7]
    parts = markup.split(markup.render(body))
    assert [p for p in parts if isinstance(p, int)] == [12, 7, 12]
    assert parts[0] == "<p>前言</p>\n" and "[[product:9]]" in parts[-1]


def test_embeds_are_found_in_bodies_sent_with_crlf_line_ends():
    """Browsers send a textarea's lines ending in CRLF: embeds there are embeds too (and
    so are checked against the catalogue)."""
    body = "前言\r\n\r\n[[product:5]]\r\n\r\n[[product:6]]\r\n"
    assert markup.embedded_ids(body) == [5, 6]
    assert [p for p in markup.split(markup.render(body)) if isinstance(p, int)] == [5, 6]


def test_too_many_embeds_are_refused():
    body = "\n\n".join(f"[[product:{i}]]" for i in range(1, markup.MAX_EMBEDS + 2))
    assert any("at most" in p for p in markup.check(body))
