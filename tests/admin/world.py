"""One of every kind of thing the backoffice shows (or `copies` of each), made through the
factories and the checkout, so every backoffice page has something real to show: the
all-pages test opens each page with these ids, the query-count test compares a world of
two with a world of six."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import update

from shop.db import db
from shop.orders.models import Order
from tests.conftest import signed_in
from tests.factories import (ArticleCategoryFactory, CollectionFactory, CollectionProductFactory,
                             HomeBlockFactory, HomeSlideFactory, ArticleFactory, ArticleRevisionFactory,
                             AuditEntryFactory, BargainFactory, CommissionRateFactory,
                             CouponFactory, CustomerTagFactory, DistributorFactory,
                             DistributorLevelFactory, FlashItemFactory, GroupCampaignFactory,
                             GroupCampaignSkuFactory, GroupFactory, MallItemFactory,
                             MemberLevelFactory, PickupCodeFactory, ProductImageFactory,
                             PromotionFactory, PromotionTierFactory, RechargePackageFactory,
                             ShippingTemplateFactory, StoreFactory, StoreStaffFactory,
                             TimedPriceFactory, UserCouponFactory, UserFactory, WithdrawalFactory, product_with_skus)
from tests.factories import SynonymGroupFactory
from tests.payments.helpers import placed_order


def make_world(app, copies: int = 1) -> dict:
    """Ids of the first of each kind, keyed "<blueprint>.<url argument>" where the
    argument's meaning depends on the blueprint, else by the argument alone."""
    ids: dict = {}
    shopper, customer = signed_in(app)  # one sign-in: the shop limits how often one may
    for n in range(copies):
        product, skus = product_with_skus()
        image = ProductImageFactory(product=product)
        article = ArticleFactory(body_md=f"正文第一段。\n\n[[product:{product.id}]]", revision=2)
        ArticleRevisionFactory(article_id=article.id, number=1, title="第一版", body_md="第一版正文")
        ArticleRevisionFactory(article_id=article.id, number=2, title=article.title, body_md=article.body_md)
        article_category = ArticleCategoryFactory()
        coupon = CouponFactory()
        promotion = PromotionFactory()
        PromotionTierFactory(promotion_id=promotion.id)
        timed = TimedPriceFactory()
        flash = FlashItemFactory()
        campaign = GroupCampaignFactory()
        with app.app_context():
            from shop.catalog.models import Sku
            from sqlalchemy import select
            campaign_sku = db.session.scalar(select(Sku.id).where(Sku.product_id == campaign.product_id))
        GroupCampaignSkuFactory(campaign_id=campaign.id, sku_id=campaign_sku)
        leader = UserFactory()
        GroupFactory(campaign_id=campaign.id, leader_id=leader.id)
        bargain = BargainFactory()
        mall = MallItemFactory()
        member_level = MemberLevelFactory()
        distributor_level = DistributorLevelFactory()
        distributor = DistributorFactory(status="applied")
        withdrawal = WithdrawalFactory(user_id=DistributorFactory().user_id, status="requested")
        rate = CommissionRateFactory(product_id=product.id)
        store = StoreFactory()
        staff = StoreStaffFactory(store_id=store.id)
        template = ShippingTemplateFactory()
        package = RechargePackageFactory()
        _c, _u, order_id, _total = placed_order(app, client=shopper, user=customer)
        _c, _u, pickup_order, _t = placed_order(app, client=shopper, user=customer)
        with app.app_context():
            db.session.execute(update(Order).where(Order.id == pickup_order)
                               .values(status="paid", pickup_store_id=store.id))
            db.session.commit()
        PickupCodeFactory(order_id=pickup_order, store_id=store.id)
        CustomerTagFactory(user_id=customer.id)
        UserCouponFactory(user_id=customer.id, coupon_id=coupon.id, claim_no=n + 1)
        entry = AuditEntryFactory(path=f"/admin/stores/{store.id}", target=f"store_id={store.id}")
        synonyms = SynonymGroupFactory()
        collection = CollectionFactory()
        CollectionProductFactory(collection_id=collection.id, product_id=product.id)
        slide = HomeSlideFactory(block_id=HomeBlockFactory(kind="banner").id)
        if n == 0:
            ids.update({
                "product_id": product.id, "image_id": image.id, "sku_id": skus[0].id,
                "catalog_admin.category_id": product.category_id,
                "articles_admin.category_id": article_category.id,
                "article_id": article.id, "number": 1, "coupon_id": coupon.id,
                "promotion_id": promotion.id, "timed_id": timed.id,
                "promotions_admin.session_id": flash.session_id,
                "promotions_admin.item_id": flash.id, "points_admin.item_id": mall.id,
                "groups_admin.campaign_id": campaign.id,
                "bargains_admin.campaign_id": bargain.campaign_id,
                "members_admin.level_id": member_level.id,
                "referrals_admin.level_id": distributor_level.id,
                "referrals_admin.user_id": distributor.user_id,
                "articles_admin.user_id": article.author_id,
                "stores_admin.user_id": staff.user_id,
                "user_id": customer.id, "withdrawal_id": withdrawal.id, "rate_id": rate.id,
                "store_id": store.id, "template_id": template.id, "package_id": package.id,
                "order_id": order_id, "entry_id": entry.id, "code": "first_order", "kind": "product",
                "search_admin.group_id": synonyms.id,
                "block_id": slide.block_id, "slide_id": slide.id, "collection_id": collection.id,
                "home_admin.kind": "banner",
            })
    return ids


# Query arguments a page needs to show what it is for.
QUERIES = {
    "admin.pick": lambda ids: {"name": "sku_id", "q": "商品"},
    "groups_admin.new": lambda ids: {"product_id": ids["product_id"]},
}


def url_for_rule(rule, ids: dict) -> str:
    """The rule's path with the world's ids; fails on an argument the world lacks, so a
    new route is added here before it can go untested."""
    blueprint = rule.endpoint.rpartition(".")[0]
    values = {}
    for name in rule.arguments:
        key = f"{blueprint}.{name}" if f"{blueprint}.{name}" in ids else name
        assert key in ids, f"{rule.rule}: the world has no {name!r} (tests/admin/world.py)"
        values[name] = ids[key]
    url = rule.build(values, append_unknown=False)[1]
    query = QUERIES.get(rule.endpoint)
    return url + ("?" + urlencode(query(ids)) if query else "")
