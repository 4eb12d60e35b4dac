"""The demo's home page (called from shop.demo.load_demo, after the catalogue, articles and
campaigns): a banner carousel of three drawn slides (to the group buys, to the fruit
collection, to the flash sale), the running offers, the fruit collection (its own
landing page), the category grid and the latest articles. Made once: nothing is added
when the home has a block already."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from shop.catalog.models import Category, Product
from shop.db import db
from shop.home import services
from shop.home.models import HomeBlock
from shop.media.services import save_pixels

FRUIT = ("demo-hainan-mango", "demo-chile-cherries")
# (zh alt, en alt, en words drawn, colours (top, bottom), link kind, link)
SLIDES = (
    ("好友拼团，一起买更便宜", "Group buys: together for less", "Group buys", ((196, 22, 28), (245, 120, 80)),
     "campaign", "groups"),
    ("夏日鲜果专场", "Summer fruit", "Summer fruit", ((255, 196, 60), (240, 110, 40)),
     "collection", None),
    ("整点秒杀，手慢无", "Flash sale on the hour", "Flash sale", ((40, 60, 140), (120, 80, 200)),
     "campaign", "flash"),
)


def _banner(words: str, colours) -> Image.Image:
    """A 1200 x 500 banner: a gradient and a few English words (the demo draws no Chinese)."""
    top, bottom = colours
    mask = Image.linear_gradient("L").rotate(90).resize((1200, 500))
    img = Image.composite(Image.new("RGB", (1200, 500), top), Image.new("RGB", (1200, 500), bottom), mask)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((760, 90, 1110, 410), radius=60, fill=(255, 255, 255))
    draw.ellipse((850, 160, 1020, 330), fill=top)
    draw.text((80, 200), words, font=ImageFont.load_default(size=84), fill=(255, 255, 255))
    return img


def load_home() -> int:
    """Make the demo's home blocks; the number made (0 when the home has some)."""
    if db.session.scalar(select(HomeBlock.id).limit(1)) is not None:
        return 0
    fruit = list(db.session.scalars(select(Product.id).where(Product.code.in_(FRUIT))))
    fruit_category = db.session.scalar(select(Category.id).where(Category.slug == "fresh-fruit"))
    collection = services.save_collection(None, services.CollectionData(
        title="夏日鲜果", title_en="Summer fruit",
        description="当季的芒果和车厘子，产地直发。",
        description_en="Mangoes and cherries in season, shipped from the farms.",
        published=True, mode="picked" if fruit else "rule", product_ids=fruit,
        rule_category_id=None if fruit else fruit_category, rule_keyword="" if fruit or fruit_category else "果",
        rule_sort="sales", rule_limit=12,
        cover=save_pixels(_banner("Summer fruit", SLIDES[1][3]))))
    window = dict(starts_at=None, ends_at=None, published=True)
    banner = services.save_block(None, "banner", services.BlockData(
        title="", title_en="", settings={}, **window))
    for alt, alt_en, words, colours, kind, page in SLIDES:
        services.save_slide(banner, None, services.SlideData(
            alt=alt, alt_en=alt_en, link_kind=kind,
            link_id=collection.id if kind == "collection" else None, link_page=page,
            image=save_pixels(_banner(words, colours))))
    services.save_block(None, "campaigns", services.BlockData(
        title="正在进行", title_en="On now", settings={"kinds": list(services.CAMPAIGN_KINDS), "limit": 6},
        **window))
    services.save_block(None, "collection", services.BlockData(
        title="", title_en="", settings={}, collection_id=collection.id, **window))
    services.save_block(None, "categories", services.BlockData(
        title="逛分类", title_en="Shop by category", settings={"ids": []}, **window))
    services.save_block(None, "articles", services.BlockData(
        title="好物笔记", title_en="Good reads", settings={"ids": [], "limit": 3}, **window))
    return 5
