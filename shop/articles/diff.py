"""What changed between two revisions of an article, for the editor to read before a
restore: title and summary word by word, the body's Markdown source line by line (its
text form: never its HTML, so nothing in a body is ever rendered here), the embedded
products added and removed. Pieces are plain text; the template escapes them inside
<ins>/<del>. Reads only."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from shop.articles import markup
from shop.articles.models import Article, ArticleRevision
from shop.db import db

# A word of Latin letters or digits, a run of spaces, or one other character (each
# Chinese character on its own: Chinese has no spaces between words).
TOKEN = re.compile(r"[A-Za-z0-9_'-]+|\s+|.", re.S)


@dataclass
class Piece:
    op: str  # "equal", "insert" or "delete"
    text: str


@dataclass
class Line:
    op: str  # "equal", "insert", "delete"
    pieces: list[Piece]  # a changed line paired with its counterpart: words marked within


@dataclass
class RevisionDiff:
    old: ArticleRevision
    new: ArticleRevision
    title: list[Piece]
    summary: list[Piece]
    body: list[Line]
    added: list = field(default_factory=list)    # (product id, title or None)
    removed: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(p.op != "equal" for p in [*self.title, *self.summary]) or any(
            line.op != "equal" for line in self.body) or bool(self.added or self.removed)


def _merge(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if piece.text == "":
            continue
        if merged and merged[-1].op == piece.op:
            merged[-1] = Piece(piece.op, merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return merged


def words(old: str, new: str) -> list[Piece]:
    """The words of `old` turned into `new`: kept, deleted and inserted runs."""
    a, b = TOKEN.findall(old or ""), TOKEN.findall(new or "")
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(Piece("equal", "".join(a[i1:i2])))
        else:
            pieces.append(Piece("delete", "".join(a[i1:i2])))
            pieces.append(Piece("insert", "".join(b[j1:j2])))
    return _merge(pieces)


def lines(old: str, new: str) -> list[Line]:
    """The lines of `old` turned into `new`; a replaced block shows its old lines deleted,
    then its new lines inserted, each with the words that changed marked when the block
    replaces as many lines as it had."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    result: list[Line] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            result += [Line("equal", [Piece("equal", text)]) for text in a[i1:i2]]
        elif op == "replace" and i2 - i1 == j2 - j1:
            pairs = [words(x, y) for x, y in zip(a[i1:i2], b[j1:j2])]
            result += [Line("delete", [p for p in pieces if p.op != "insert"]) for pieces in pairs]
            result += [Line("insert", [p for p in pieces if p.op != "delete"]) for pieces in pairs]
        else:
            result += [Line("delete", [Piece("delete", text)]) for text in a[i1:i2]]
            result += [Line("insert", [Piece("insert", text)]) for text in b[j1:j2]]
    return result


def revision(article: Article, number: int) -> ArticleRevision | None:
    return db.session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == article.id, ArticleRevision.number == number))


def compare(old: ArticleRevision, new: ArticleRevision) -> RevisionDiff:
    """From revision `old` to revision `new` (two queries at most: the products' titles in one)."""
    from shop.catalog.models import Product

    before, after = markup.embedded_ids(old.body_md), markup.embedded_ids(new.body_md)
    added = [pid for pid in after if pid not in before]
    removed = [pid for pid in before if pid not in after]
    titles = dict(db.session.execute(select(Product.id, Product.title).where(
        Product.id.in_(added + removed))).all()) if added or removed else {}
    return RevisionDiff(old=old, new=new, title=words(old.title, new.title),
                        summary=words(old.summary, new.summary),
                        body=lines(old.body_md, new.body_md),
                        added=[(pid, titles.get(pid)) for pid in added],
                        removed=[(pid, titles.get(pid)) for pid in removed])
