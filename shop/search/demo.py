"""The demo's search words (called by shop.demo.load_demo): synonyms that make everyday
words find the demo catalogue (芒果 finds 海南贵妃芒; 茶叶 the teas, whose category is 茗茶),
and a few recommended searches. Loaded once: nothing is added when any group exists."""

from __future__ import annotations

from sqlalchemy import select

from shop.db import db
from shop.search import services
from shop.search.models import SynonymGroup

SYNONYMS = (  # (words, one way)
    ("芒果 芒 mango", False),
    ("茶叶 茗茶 绿茶 龙井 铁观音 普洱", True),
    ("零食 小吃 snack", False),
    ("水果 鲜果", False),
    ("车厘子 樱桃 cherry", False),
    ("奇异果 猕猴桃 金果 kiwi", False),
    ("番茄 西红柿 tomato", False),
    ("充电宝 移动电源 powerbank", False),
    ("手机壳 保护壳 手机套", False),
)
RECOMMENDED = "芒果\n车厘子\n坚果\n龙井"


def load_search_words() -> int:
    if db.session.scalar(select(SynonymGroup.id).limit(1)) is not None:
        return 0
    for terms, one_way in SYNONYMS:
        services.save_group(None, terms, one_way)
    services.save_keywords("recommended", RECOMMENDED)
    return len(SYNONYMS)
