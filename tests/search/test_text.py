"""The tokenizer of the index and of queries (pure functions)."""

import pytest

from shop.search.services import _fts5, _tsquery
from shop.search.text import index_tokens, normalise, pinyin_tokens, split_query

pytestmark = pytest.mark.pages  # pure functions: no database behaviour changes them


def test_the_index_holds_characters_bigrams_and_lower_case_words_once():
    tokens = index_tokens("海南贵妃芒 新鲜", "Hainan MANGOES，６５W 芒").split()
    assert {"芒", "贵妃", "妃芒", "海南", "新鲜", "hainan", "mangoes", "65w"} <= set(tokens)
    assert "南新" not in tokens  # no bigram across a space
    assert len(tokens) == len(set(tokens))


def test_a_query_is_cut_into_words_each_found_by_its_bigrams_or_as_a_prefix():
    words = split_query("海南芒果 Mango", {})
    assert [w.text for w in words] == ["海南", "芒果", "mango"]
    assert words[1].alternatives[0].tokens == ("芒果",)
    assert words[2].alternatives[0].prefix
    # a word jieba does not know is still spelled by its bigrams
    assert split_query("贵妃芒", {})[0].alternatives[0].tokens == ("贵妃",)


def test_synonyms_are_alternatives_and_an_admins_term_is_never_cut_apart():
    known = {"移动电源": ("充电宝",), "芒果": ("芒", "mango")}
    words = split_query("移动电源芒果", known)
    assert [w.text for w in words] == ["移动电源", "芒果"]
    assert [a.tokens for a in words[0].alternatives] == [("移动", "动电", "电源"), ("充电", "电宝")]
    assert [a.tokens for a in words[1].alternatives] == [("芒果",), ("芒",), ("mango",)]


def test_odd_characters_never_reach_the_full_text_syntax():
    words = split_query('"*(OR) NEAR^: -x\' 芒"', {})
    assert [w.text for w in words] == ["芒", "or", "near", "x"]
    assert _fts5(words) == '(("芒")) AND (("or")) AND (("near"*)) AND (("x"))'  # short words whole
    assert _tsquery(words) == "(('芒')) & (('or')) & (('near':*)) & (('x'))"
    assert split_query("!!! ？？", {}) == []
    assert normalise("  ＡＢＣ　１２ ") == "abc 12"


def test_titles_are_indexed_by_pinyin_runs_that_a_latin_prefix_finds():
    assert pinyin_tokens("海南贵妃芒 绿茶").split() == [
        "hainanguifeimang", "nanguifeimang", "guifeimang", "feimang", "mang", "lvcha", "cha"]
