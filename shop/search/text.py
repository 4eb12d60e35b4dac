"""Text into search tokens: the one tokenizer of the index and of queries (pure, no app).

The index side cuts text into characters and character bigrams (for Han script) and
lower-case words (anything else), so any part of a Chinese word matches: 贵妃芒 holds
贵妃, 妃芒, 芒... The query side cuts what was typed into words with jieba (precise mode),
and each word must then be found as the bigrams that spell it: "海南芒果" is 海南 + 芒果, which
海南贵妃芒果 holds although it never holds 南芒. A query word of one Han character is
matched as that character; a Latin word as a prefix ("mango" finds "mangoes"), unless it
is short (WHOLE_WORD letters or fewer: "tea" is not "teat").

Titles are also indexed by their pinyin (tone marks dropped, ü as v): every run of
syllables from each Han character on, up to PINYIN_SPAN of them, so "mangguo", "guifei" or
"hainanguifei" typed as Latin letters (a prefix) find 海南贵妃芒果. Each character reads as
its first (most common) reading in pypinyin's character table, read as data (20 ms, a
few MB) rather than through pypinyin itself (its phrase tables cost ~60 MB a process):
a polyphone in a rare reading (重庆 read zhong-) is found by its common one only.

jieba costs ~0.1 s to import and ~0.6-0.9 s (and ~65 MB) to load its dictionary, so it
is loaded once per process at the first query that needs it (queries of one Han word or
of Latin words only never load it). The index side never uses it: bigrams find what any
segmentation would, and indexing stays fast (100 k products in seconds) and the same in
migrations, the CLI and the request.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[^\W_]+")
MAX_WORD = 32  # longer Latin "words" (pasted ids, hashes) are cut


def normalise(text: str) -> str:
    """Full-width to half-width, compatibility forms folded, lower case, one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _han_tokens(run: str) -> list[str]:
    return list(run) + [run[i:i + 2] for i in range(len(run) - 1)]


def index_tokens(*texts: str) -> str:
    """The tokens of `texts` for the index, space-separated, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        text = normalise(text)
        for run in HAN.findall(text):
            seen.update(dict.fromkeys(_han_tokens(run)))
        for word in WORD.findall(HAN.sub(" ", text)):
            seen[word[:MAX_WORD]] = None
    return " ".join(seen)


PINYIN_SPAN = 6
_pinyin: dict[int, str] | None = None


def _pinyin_table() -> dict[int, str]:
    global _pinyin
    if _pinyin is None:
        import importlib.util
        import json
        from pathlib import Path

        folder = Path(importlib.util.find_spec("pypinyin").submodule_search_locations[0])
        readings = json.loads((folder / "pinyin_dict.json").read_text(encoding="utf-8"))
        _pinyin = {int(code): "".join(ch for ch in unicodedata.normalize(
                       "NFKD", reading.split(",")[0]).replace("u\u0308", "v") if ch.isascii())
                   for code, reading in readings.items()}
    return _pinyin


def pinyin_tokens(text: str) -> str:
    """The pinyin tokens of `text`'s Han runs, space-separated, each once."""
    table, seen = _pinyin_table(), {}
    for run in HAN.findall(normalise(text)):
        syllables = [table.get(ord(ch), "") for ch in run]
        for i, first in enumerate(syllables):
            if first:
                span = syllables[i:i + PINYIN_SPAN]
                cut = span.index("") if "" in span else len(span)
                seen["".join(span[:cut])[:MAX_WORD]] = None
    return " ".join(seen)


# --- queries -----------------------------------------------------------------------------


# A Latin word of this many letters or fewer is matched whole: as a prefix "tea" would
# find "tear" and "teat" (pull-up pants, baby bottles), "man" every "mango"; longer words
# stay prefixes ("mango" finds "mangoes", "guifeim" the pinyin being typed).
WHOLE_WORD = 3


@dataclass(frozen=True)
class Alternative:
    """One way to find a query word: all these tokens; `prefix`: a Latin word, whose
    token may be the start of a longer one."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Word:
    """A word of the query: found when any of its alternatives is (the word itself, then
    its synonyms)."""

    text: str
    alternatives: tuple[Alternative, ...]


def alternative(word: str) -> Alternative | None:
    """How one word (normalised) is looked for, or None when it has nothing to look for."""
    if HAN.fullmatch(word):
        return Alternative(tuple(word) if len(word) == 1 else
                           tuple(word[i:i + 2] for i in range(len(word) - 1)))
    words = WORD.findall(HAN.sub(" ", word))
    if len(words) == 1 and not HAN.search(word):
        return Alternative((words[0][:MAX_WORD],), prefix=len(words[0]) > WHOLE_WORD)
    tokens = [t for piece in HAN.findall(word) for t in alternative(piece).tokens]
    tokens += [w[:MAX_WORD] for w in words]
    return Alternative(tuple(dict.fromkeys(tokens))) if tokens else None


_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _jieba = tokenizer
    return _jieba


def segment(text: str) -> list[str]:
    """Words of a normalised piece of query text: Han runs of two characters or more go
    through jieba (loaded at its first use); the rest are split on what is not a letter
    or digit."""
    words: list[str] = []
    for piece in re.split(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,})", text):
        if HAN.fullmatch(piece or "x") and len(piece) >= 2:
            words += [w for w in _segmenter().lcut(piece, HMM=True) if w.strip()]
        else:
            words += HAN.findall(piece) + WORD.findall(HAN.sub(" ", piece))
    return words


def split_query(text: str, known: dict[str, tuple[str, ...]]) -> list[Word]:
    """The words of a query and how each is looked for. `known`: each synonym term (its
    other terms as value), found whole in the text before jieba sees it, longest first,
    so a term the admin defined is never cut apart."""
    text = normalise(text)
    pieces: list[tuple[str, bool]] = [(text, False)]
    for term in sorted(known, key=len, reverse=True):
        if not term:
            continue
        latin = not HAN.search(term)
        pattern = re.compile((r"(?<![^\W_])" + re.escape(term) + r"(?![^\W_])") if latin
                             else re.escape(term))
        split: list[tuple[str, bool]] = []
        for piece, is_term in pieces:
            if is_term:
                split.append((piece, True))
                continue
            start = 0
            for found in pattern.finditer(piece):
                split += [(piece[start:found.start()], False), (term, True)]
                start = found.end()
            split.append((piece[start:], False))
        pieces = [p for p in split if p[0].strip()]
    words: list[Word] = []
    for piece, is_term in pieces:
        for word in ([piece] if is_term else segment(piece)):
            alts = [alternative(t) for t in (word, *known.get(word, ()))]
            alts = tuple(dict.fromkeys(a for a in alts if a is not None))
            if alts and all(w.text != word for w in words):
                words.append(Word(word, alts))
    return words


# --- close matches -------------------------------------------------------------------------

MAX_UNITS = 8  # parts a close match weighs (each one more look-up); more are dropped


@dataclass(frozen=True)
class Unit:
    """A part of the query a close match may hold: a word, or one character pair of a
    longer Han word; `weight`: its characters (a pair: 2)."""

    word: Word
    weight: int


def close_units(words: list[Word] | tuple[Word, ...], known: dict[str, tuple[str, ...]]) -> tuple[Unit, ...]:
    """The parts of a query that found nothing as a whole, for close matches: each word,
    except that a Han word of three characters or more that is not an admin's synonym
    term is taken apart into its pairs (龙井茶 = 龙井 + 井茶), each with the synonyms of
    that pair (芒果 -> mango). Empty when there is only one part (nothing to relax)."""
    units: list[Unit] = []
    for word in words:
        first = word.alternatives[0]
        if len(word.alternatives) == 1 and len(first.tokens) > 1 and HAN.fullmatch(word.text):
            for pair in first.tokens:
                alts = tuple(dict.fromkeys(a for a in (alternative(t) for t in (pair, *known.get(pair, ()))) if a))
                units.append(Unit(Word(pair, alts), 2))
        else:
            units.append(Unit(word, len(word.text)))
    units = list(dict.fromkeys(units))[:MAX_UNITS]
    return tuple(units) if len(units) > 1 else ()
