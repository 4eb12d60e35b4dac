"""One factory per model. Each create runs in its own app context and commits, so the
data is there for the next request; the returned object is detached with its columns
loaded (use ids, not lazy relationships, across requests)."""

from __future__ import annotations

from datetime import timedelta

import factory
from werkzeug.security import generate_password_hash

from shop.accounts.models import PhoneCode, User
from shop.articles import markup
from shop.articles.models import (Article, ArticleCategory, ArticleEvent, ArticleProduct,
                                  ArticleRevision, Tag)
from shop.bargains.models import Bargain, BargainCampaign, BargainHelp
from shop.bargains.services import plan_cuts
from shop.catalog.models import Category, Product, ProductImage, Sku, StockMovement
from shop.config import TestConfig
from shop.db import db, utcnow
from shop.groups.models import (CampaignUnitEntry, Group, GroupCampaign, GroupCampaignSku,
                                GroupMember, GroupSeatEntry)
from shop.members.models import GrowthEntry, Member, MemberLevel
from shop.orders.models import Address
from shop.points.models import (MallItem, MallStockEntry, PointsAccount, PointsEntry, PointsLot,
                                PointsLotTake, PointsRate, PointsSettings, Redemption, Signin, SigninBonus,
                                TaskCompletion, TaskRule)
from shop.referrals.models import (Binding, Commission, CommissionEntry, CommissionRate,
                                   Distributor, DistributorLevel, LinkOpen, OrderReferral,
                                   ReferralSettings, Withdrawal)
from shop.referrals.models import LossLeader
from shop.search.models import SynonymGroup
from shop.shipping.models import ShippingRegion, ShippingTemplate
from shop.stores.models import PickupCode, Store, StoreStaff

PASSWORD = "password123"
# Hashed once, the way the tests' configuration hashes (TestConfig.PASSWORD_METHOD):
# cheap to check at every sign-in.
PASSWORD_HASH = generate_password_hash(PASSWORD, method=TestConfig.PASSWORD_METHOD)

_app = None


def use_app(app) -> None:
    global _app
    _app = app


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        assert _app is not None, "factories need the `app` fixture"
        with _app.app_context():
            session = db.session()
            session.expire_on_commit = False
            obj = super()._create(model_class, *args, **kwargs)
            session.flush()
            opening = cls._opening(obj)
            if opening is not None:
                session.add(opening)
            session.commit()
            return obj

    @classmethod
    def _opening(cls, obj):
        """The ledger's first row for a balance the object is made with (shop.ledgers:
        every ledger adds up to its balance from its first row), or None."""
        return None


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    # Proven, as most accounts' are; email_verified_at=None for one typed at /register.
    email_verified_at = factory.LazyAttribute(lambda o: utcnow() if o.email else None)
    nickname = factory.Sequence(lambda n: f"用户{n}")
    password_hash = PASSWORD_HASH
    role = "shopper"


def _code_digest(phone: str, code: str) -> str:
    from shop.accounts.phone import _digest

    with _app.app_context():
        return _digest(phone, code)


class PhoneCodeFactory(BaseFactory):
    """A sign-in code for a number; `code` (not stored) is the code it hashes."""

    class Meta:
        model = PhoneCode
        exclude = ("code",)

    code = "123456"
    phone = "+8613800138000"
    created_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(minutes=5))
    code_hash = factory.LazyAttribute(lambda o: _code_digest(o.phone, o.code))


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"分类{n}")
    translations = factory.LazyAttribute(lambda o: {"en": {"name": f"Category {o.slug}"}})


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"p{n}")
    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"商品{n}")
    subtitle = "好东西"
    selling_points = "新鲜\n实惠"
    description = "第一段。\n\n第二段。"
    translations = factory.LazyAttribute(
        lambda o: {"en": {"title": f"Product {o.code}", "subtitle": "Good stuff",
                          "options": {"颜色": "Colour", "红": "Red", "蓝": "Blue"}}}
    )
    option_names = factory.LazyFunction(list)
    currency = "CNY"
    price_minor = 1990
    cost_price_minor = 1000
    status = "on_sale"
    sales_count = 0


class SkuFactory(BaseFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"sku-{n}")
    option_values = factory.LazyFunction(list)
    price_minor = 1990
    cost_price_minor = None  # the product's cost
    stock = 10

    @classmethod
    def _opening(cls, sku):
        return StockMovement(sku_id=sku.id, delta=sku.stock, balance_after=sku.stock,
                             reason="opening", ref_type="opening", ref_id=str(sku.id)) \
            if sku.stock else None


class ProductImageFactory(BaseFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    key = factory.Sequence(lambda n: f"{n:024d}")
    width = 960
    height = 960
    widths = "240,480,960"


class StockMovementFactory(BaseFactory):
    class Meta:
        model = StockMovement

    sku = factory.SubFactory(SkuFactory)
    delta = 5
    balance_after = 15
    reason = "adjustment"
    ref_type = "test"
    ref_id = factory.Sequence(str)


def product_with_skus(*, options=("颜色",), skus=(("红", 1990, 10), ("蓝", 2590, 0)), **kwargs):
    """A product on sale with SKUs given as (value, price_minor, stock); price kept = min."""
    product = ProductFactory(option_names=list(options),
                             price_minor=min(price for _v, price, _s in skus), **kwargs)
    made = [SkuFactory(product=product, option_values=[v], price_minor=p, stock=s)
            for v, p, s in skus]
    return product, made


# --- bargains --------------------------------------------------------------------------

class BargainCampaignFactory(BaseFactory):
    """A campaign on now (for a week) for a new SKU with 10 in stock: 100.00 down to
    10.00 with 5 helpers, each bargain running 24 hours."""

    class Meta:
        model = BargainCampaign

    sku = factory.SubFactory(SkuFactory, price_minor=10000, stock=10)
    product = factory.SelfAttribute("sku.product")
    currency = "CNY"
    start_price_minor = 10000
    floor_price_minor = 1000
    helpers_needed = 5
    hours = 24
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))
    active = True


class BargainFactory(BaseFactory):
    """A new shopper's active bargain on a new campaign, nobody has cut yet; its prices
    copied from the campaign and its plan drawn as services.start() does."""

    class Meta:
        model = Bargain

    campaign = factory.SubFactory(BargainCampaignFactory)
    user_id = factory.LazyFunction(lambda: UserFactory().id)
    status = "active"
    currency = factory.SelfAttribute("campaign.currency")
    start_price_minor = factory.SelfAttribute("campaign.start_price_minor")
    floor_price_minor = factory.SelfAttribute("campaign.floor_price_minor")
    helpers_needed = factory.SelfAttribute("campaign.helpers_needed")
    plan = factory.LazyAttribute(lambda o: plan_cuts(o.start_price_minor - o.floor_price_minor,
                                                     o.helpers_needed))
    price_minor = factory.SelfAttribute("start_price_minor")
    helps = 0
    expires_at = factory.LazyAttribute(lambda o: utcnow() + timedelta(hours=o.campaign.hours))
    version = 1


class BargainHelpFactory(BaseFactory):
    """A cut row written as is (bargain_id given, or a new bargain); tests of the rules
    cut through services.cut(), which also moves the bargain's price."""

    class Meta:
        model = BargainHelp

    bargain_id = factory.LazyFunction(lambda: BargainFactory().id)
    helper_id = factory.LazyFunction(lambda: UserFactory().id)
    seq = 1
    amount_minor = 100
    price_after_minor = 9900


# --- articles --------------------------------------------------------------------------

class ArticleCategoryFactory(BaseFactory):
    class Meta:
        model = ArticleCategory

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"专题{n}")


class TagFactory(BaseFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"标签{n}")


class ArticleFactory(BaseFactory):
    """A published article (visible since a minute ago) by a new editor; body_html and
    the embed rows follow body_md as the service would make them."""

    class Meta:
        model = Article

    author = factory.SubFactory(UserFactory, role="editor")
    title = factory.Sequence(lambda n: f"文章{n}")
    summary = "一篇好文章"
    body_md = "正文第一段。"
    body_html = factory.LazyAttribute(lambda o: markup.render(o.body_md))
    status = "published"
    published_at = factory.LazyFunction(lambda: utcnow() - timedelta(minutes=1))
    embeds = factory.LazyAttribute(lambda o: [
        ArticleProduct(product_id=pid, position=i)
        for i, pid in enumerate(markup.embedded_ids(o.body_md))])


class ArticleProductFactory(BaseFactory):
    class Meta:
        model = ArticleProduct

    article = factory.SubFactory(ArticleFactory)
    product_id = factory.LazyFunction(lambda: ProductFactory().id)


class ArticleRevisionFactory(BaseFactory):
    class Meta:
        model = ArticleRevision

    article_id = factory.LazyFunction(lambda: ArticleFactory().id)
    number = factory.Sequence(lambda n: n + 1)
    action = "saved"
    editor_id = factory.LazyFunction(lambda: UserFactory(role="editor").id)
    status = "draft"
    title = "旧标题"
    body_md = "旧正文"


class ArticleEventFactory(BaseFactory):
    class Meta:
        model = ArticleEvent

    article_id = factory.LazyFunction(lambda: ArticleFactory().id)
    kind = "view"
    visitor = factory.Sequence(lambda n: f"{n:032x}")


# --- referrals -------------------------------------------------------------------------

class ReferralSettingsFactory(BaseFactory):
    """The settings row; the services make it with these defaults when it is missing."""

    class Meta:
        model = ReferralSettings
        sqlalchemy_get_or_create = ("id",)

    id = 1
    mode = "everyone"


class DistributorLevelFactory(BaseFactory):
    class Meta:
        model = DistributorLevel

    name = factory.Sequence(lambda n: f"等级{n}")
    level1_bp = 1500
    level2_bp = 600


class DistributorFactory(BaseFactory):
    class Meta:
        model = Distributor

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    status = "approved"
    currency = "CNY"
    pending_minor = 0
    balance_minor = 0


class BindingFactory(BaseFactory):
    """user_id was referred by referrer_id (both required)."""

    class Meta:
        model = Binding

    via = "link"


class LinkOpenFactory(BaseFactory):
    class Meta:
        model = LinkOpen

    target = ""
    visitor = factory.Sequence(lambda n: f"{n:032x}")


class OrderReferralFactory(BaseFactory):
    class Meta:
        model = OrderReferral


class CommissionRateFactory(BaseFactory):
    class Meta:
        model = CommissionRate

    level1_bp = 2000
    level2_bp = 800


class LossLeaderFactory(BaseFactory):
    """A flash item's price confirmed below its SKU's floor (pass object_id, the item's)."""

    class Meta:
        model = LossLeader

    kind = "flash"
    object_id = 1
    sku_id = factory.LazyFunction(lambda: SkuFactory().id)
    currency = "CNY"
    price_minor = 100
    floor_minor = 1334
    confirmed_by_id = factory.LazyFunction(lambda: UserFactory(role="admin").id)


class CommissionFactory(BaseFactory):
    class Meta:
        model = Commission

    level = 1
    status = "pending"
    currency = "CNY"
    base_minor = 10000
    uncapped_minor = 1000
    amount_minor = 1000
    reversed_minor = 0
    settle_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))


class CommissionEntryFactory(BaseFactory):
    class Meta:
        model = CommissionEntry

    bucket = "balance"
    amount_minor = 1000
    balance_after_minor = 1000
    reason = "adjustment"
    ref_type = "test"
    ref_id = factory.Sequence(str)


class WithdrawalFactory(BaseFactory):
    class Meta:
        model = Withdrawal

    currency = "CNY"
    amount_minor = 1000
    fee_minor = 0
    method = "wallet"


# --- members ---------------------------------------------------------------------------

class MemberLevelFactory(BaseFactory):
    """A level with no benefit unless given; thresholds are unique."""

    class Meta:
        model = MemberLevel

    name = factory.Sequence(lambda n: f"会员等级{n}")
    threshold = factory.Sequence(lambda n: (n + 1) * 1000)
    discount_bp = 0
    points_multiplier_bp = 10_000
    free_shipping = False


class MemberFactory(BaseFactory):
    """A member row as the services leave it; growth here has no ledger behind it, so
    tests that check the ledger give growth through services.move()."""

    class Meta:
        model = Member

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    growth = 0


class GrowthEntryFactory(BaseFactory):
    """A ledger row of an existing member (user_id required)."""

    class Meta:
        model = GrowthEntry

    amount = 100
    growth_after = 100
    reason = "adjustment"
    ref_type = "test"
    ref_id = factory.Sequence(str)


# --- points ----------------------------------------------------------------------------

class PointsSettingsFactory(BaseFactory):
    """The rules row; the services use the column defaults while it is missing."""

    class Meta:
        model = PointsSettings
        sqlalchemy_get_or_create = ("id",)

    id = 1


class SigninBonusFactory(BaseFactory):
    class Meta:
        model = SigninBonus
        sqlalchemy_get_or_create = ("day",)

    day = 7
    points = 30


class PointsRateFactory(BaseFactory):
    """A product's own earning rate (product_id required)."""

    class Meta:
        model = PointsRate

    earn_per_unit = 3


class PointsAccountFactory(BaseFactory):
    """An account as the services make it; a balance here has no ledger or lots behind
    it, so tests that check them give points through services.move()."""

    class Meta:
        model = PointsAccount

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    balance = 0


class PointsEntryFactory(BaseFactory):
    """A ledger row of an existing account (user_id required)."""

    class Meta:
        model = PointsEntry

    amount = 100
    balance_after = 100
    reason = "adjustment"
    ref_type = "test"
    ref_id = factory.Sequence(str)


class PointsLotFactory(BaseFactory):
    """A lot of an existing entry (user_id and entry_id required)."""

    class Meta:
        model = PointsLot

    points = 100
    remaining = 100
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=365))


class PointsLotTakeFactory(BaseFactory):
    """What a debit took from a lot (entry_id and lot_id required)."""

    class Meta:
        model = PointsLotTake

    points = 10


class SigninFactory(BaseFactory):
    class Meta:
        model = Signin

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    day = factory.LazyFunction(lambda: utcnow().date())
    streak = 1
    points = 5


class TaskRuleFactory(BaseFactory):
    class Meta:
        model = TaskRule
        sqlalchemy_get_or_create = ("code",)

    code = "first_order"
    points = 50
    active = True


class TaskCompletionFactory(BaseFactory):
    class Meta:
        model = TaskCompletion

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    code = "first_order"
    period = "once"
    points = 50


class MallItemFactory(BaseFactory):
    """An item for a new SKU in stock, points only unless cash_minor is given; its own
    stock opens its ledger."""

    class Meta:
        model = MallItem

    sku_id = factory.LazyFunction(lambda: product_with_skus(skus=(("红", 1990, 50),))[1][0].id)
    points_price = 100
    cash_minor = 0
    currency = "CNY"
    stock = 10
    per_user_limit = 1
    active = True

    @classmethod
    def _opening(cls, item):
        return MallStockEntry(item_id=item.id, delta=item.stock, stock_after=item.stock,
                              reason="opening", ref_type="opening", ref_id=str(item.id)) \
            if item.stock else None


class MallStockEntryFactory(BaseFactory):
    class Meta:
        model = MallStockEntry

    delta = 10
    stock_after = 10
    reason = "initial"
    ref_type = "admin"
    ref_id = factory.Sequence(str)


class RedemptionFactory(BaseFactory):
    """The redemption behind an order (order_id, user_id and item_id required)."""

    class Meta:
        model = Redemption

    quantity = 1
    points = 100


# --- group buys ---------------------------------------------------------------------------


class GroupCampaignFactory(BaseFactory):
    """A running campaign of groups of 2 for a new product with one SKU in stock (its
    prices come with GroupCampaignSkuFactory); units_left opens its ledger."""

    class Meta:
        model = GroupCampaign

    product_id = factory.LazyFunction(lambda: product_with_skus(skus=(("红", 1990, 50),))[0].id)
    currency = "CNY"
    group_size = 2
    hours = 24
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))
    stock_cap = 20
    units_left = factory.SelfAttribute("stock_cap")
    new_customers_only = False
    active = True

    @classmethod
    def _opening(cls, campaign):
        return CampaignUnitEntry(campaign_id=campaign.id, delta=campaign.units_left,
                                 units_after=campaign.units_left, reason="stock cap",
                                 ref_type="cap", ref_id="0") if campaign.units_left else None


class GroupCampaignSkuFactory(BaseFactory):
    """A SKU's group price (campaign_id and sku_id required)."""

    class Meta:
        model = GroupCampaignSku

    price_minor = 990


class CampaignUnitEntryFactory(BaseFactory):
    class Meta:
        model = CampaignUnitEntry

    delta = -1
    units_after = 19
    reason = "claimed"
    ref_type = "order"
    ref_id = factory.Sequence(str)


class GroupFactory(BaseFactory):
    """A group of a campaign (campaign_id and leader_id required), open for a day."""

    class Meta:
        model = Group

    status = "open"
    size = 2
    seats_left = 2
    paid_count = 0
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(hours=24))

    @classmethod
    def _opening(cls, group):
        return GroupSeatEntry(group_id=group.id, delta=group.seats_left,
                              seats_after=group.seats_left, reason="opened", ref_type="group",
                              ref_id=str(group.id)) if group.seats_left else None


class GroupSeatEntryFactory(BaseFactory):
    class Meta:
        model = GroupSeatEntry

    delta = -1
    seats_after = 1
    reason = "claimed"
    ref_type = "order"
    ref_id = factory.Sequence(str)


class GroupMemberFactory(BaseFactory):
    """A seat (group_id, campaign_id, user_id, order_id and sku_id required)."""

    class Meta:
        model = GroupMember

    status = "held"


# --- promotions ---------------------------------------------------------------------------

from shop.promotions.models import (Coupon, CouponEntry, FlashItem, FlashSession,  # noqa: E402
                                    FlashStockEntry, Promotion, PromotionTier, TimedPrice,
                                    UserCoupon)


class CouponFactory(BaseFactory):
    """A running coupon of 10.00 off, no minimum spend, on everything, valid for 30 days,
    with no limit on how many are handed out (given a total_quantity and remaining, the
    remaining opens the coupon's ledger)."""

    class Meta:
        model = Coupon

    name = factory.Sequence(lambda n: f"优惠券{n}")
    currency = "CNY"
    kind = "amount"
    amount_minor = 1000
    percent_bp = None
    cap_minor = None
    min_spend_minor = 0
    scope = "all"
    scope_ids = factory.LazyFunction(list)
    valid_from = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))
    valid_days = None
    total_quantity = None
    remaining = factory.SelfAttribute("total_quantity")
    per_user_limit = 1
    claimable = True
    newcomer = False
    returns = True
    group_buys = False
    active = True

    @classmethod
    def _opening(cls, coupon):
        return CouponEntry(coupon_id=coupon.id, action="restock", delta=coupon.remaining,
                           remaining_after=coupon.remaining, ref_type="opening",
                           ref_id=str(coupon.id)) if coupon.remaining else None


class UserCouponFactory(BaseFactory):
    """A new shopper's available coupon of a new coupon (or of coupon_id / user_id
    given), written as is: no ledger row and `remaining` untouched (services.claim does
    both)."""

    class Meta:
        model = UserCoupon

    coupon_id = factory.LazyFunction(lambda: CouponFactory().id)
    user_id = factory.LazyFunction(lambda: UserFactory().id)
    claim_no = factory.Sequence(lambda n: n + 1)
    source = "claim"
    status = "available"
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))
    order_id = None
    discount_minor = 0


class PromotionFactory(BaseFactory):
    """A running full reduction on everything by amount, with no tier until
    PromotionTierFactory adds some; kind="buy_get" with sku_id, buy_n and get_m for the
    other kind."""

    class Meta:
        model = Promotion

    kind = "full_reduction"
    name = factory.Sequence(lambda n: f"满减{n}")
    currency = "CNY"
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))
    active = True
    basis = "amount"
    scope = "all"
    scope_ids = factory.LazyFunction(list)
    with_coupons = True
    group_buys = True


class PromotionTierFactory(BaseFactory):
    """A tier of a (new) full reduction: from 100.00 (thresholds go up by 100.00 each
    time), 10.00 off."""

    class Meta:
        model = PromotionTier

    promotion_id = factory.LazyFunction(lambda: PromotionFactory().id)
    threshold = factory.Sequence(lambda n: (n + 1) * 10000)
    off_minor = 1000
    off_bp = None
    free_shipping = False
    gift_sku_id = None


class TimedPriceFactory(BaseFactory):
    """A running 20 % off a new product's every SKU (one in stock), for a week."""

    class Meta:
        model = TimedPrice

    name = factory.Sequence(lambda n: f"限时价{n}")
    product_id = factory.LazyFunction(lambda: product_with_skus(skus=(("红", 1990, 50),))[0].id)
    sku_id = None
    kind = "percent"
    price_minor = None
    percent_bp = 2000
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))
    with_coupons = True
    active = True


class FlashSessionFactory(BaseFactory):
    """A flash session on now, for two more hours."""

    class Meta:
        model = FlashSession

    name = factory.Sequence(lambda n: f"秒杀场次{n}")
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: utcnow() + timedelta(hours=2))
    with_coupons = False
    with_full_reduction = False
    active = True


class FlashItemFactory(BaseFactory):
    """A new SKU (19.90, 50 in stock) in a (new) session at 9.90, 10 units of flash stock
    written with their ledger row but not taken from the SKU's stock (services.set_aside
    does both)."""

    class Meta:
        model = FlashItem

    session_id = factory.LazyFunction(lambda: FlashSessionFactory().id)
    sku_id = factory.LazyFunction(lambda: product_with_skus(skus=(("红", 1990, 50),))[1][0].id)
    currency = "CNY"
    price_minor = 990
    allotted = 10
    stock_left = factory.SelfAttribute("allotted")
    per_user_limit = 1
    released = False

    @classmethod
    def _opening(cls, item):
        return FlashStockEntry(item_id=item.id, delta=item.stock_left, stock_after=item.stock_left,
                               reason="set_aside", ref_type="opening", ref_id=str(item.id)) \
            if item.stock_left else None


class ShippingTemplateFactory(BaseFactory):
    """A template at 10.00, free from 99.00, not the default (is_default=True for one)."""

    class Meta:
        model = ShippingTemplate

    name = factory.Sequence(lambda n: f"运费模板{n}")
    currency = "CNY"
    fee_minor = 1000
    free_from_minor = 9900
    is_default = False


class ShippingRegionFactory(BaseFactory):
    """新疆 and 西藏 (province codes 65, 54) at 20.00, never free, first in a (new) template."""

    class Meta:
        model = ShippingRegion

    template_id = factory.LazyFunction(lambda: ShippingTemplateFactory().id)
    position = 0
    provinces = factory.LazyFunction(lambda: ["65", "54"])
    fee_minor = 2000
    free_from_minor = None


class AddressFactory(BaseFactory):
    """A new shopper's default address: 浙江省杭州市西湖区 (division codes), a mainland mobile."""

    class Meta:
        model = Address

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    name = "张三"
    phone = "13800138000"
    province_code, province = "33", "浙江省"
    city_code, city = "3301", "杭州市"
    district_code, district = "330106", "西湖区"
    detail = factory.Sequence(lambda n: f"文三路 {n + 1} 号")
    postcode = None
    is_default = True


class StoreFactory(BaseFactory):
    """An active store in Shanghai (徐家汇), with coordinates."""

    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"门店{n}")
    city = "上海市"
    address = factory.Sequence(lambda n: f"徐汇区漕溪北路 {n} 号")
    phone = "021-64000000"
    hours = "每天 9:00–21:00"
    map_url = ""
    latitude_e6 = 31193000
    longitude_e6 = 121437000
    active = True


class StoreStaffFactory(BaseFactory):
    """A staff account bound to a (new) store."""

    class Meta:
        model = StoreStaff

    store_id = factory.LazyFunction(lambda: StoreFactory().id)
    user_id = factory.LazyFunction(lambda: UserFactory(role="staff").id)


class PickupCodeFactory(BaseFactory):
    """The code of an existing pickup order (pass order_id and its store_id), unused."""

    class Meta:
        model = PickupCode

    code = factory.Sequence(lambda n: f"TEST{n:06d}")


from pyroaring import BitMap  # noqa: E402

from shop.analytics.models import (Acquisition, DayFigures, Hit, OrderFact,  # noqa: E402
                                   ProductMilestone, ProductSales, RollupMark, SalesDay,
                                   VisitorNumber)


class HitFactory(BaseFactory):
    """A page view of today by a new visitor, not a landing (day, kind, ids may be given)."""

    class Meta:
        model = Hit

    day = factory.LazyFunction(lambda: utcnow().date())
    created_at = factory.LazyFunction(utcnow)
    visitor = factory.Sequence(lambda n: f"{n:032x}")
    kind = "page"


class VisitorNumberFactory(BaseFactory):
    class Meta:
        model = VisitorNumber

    visitor = factory.Sequence(lambda n: f"{n:032x}")


def _empty_set() -> bytes:
    return BitMap().serialize()


class DayFiguresFactory(BaseFactory):
    """Yesterday rolled up, with nobody in it (give counts and serialized bitmaps)."""

    class Meta:
        model = DayFigures

    day = factory.LazyFunction(lambda: utcnow().date() - timedelta(days=1))
    page_views = orders = paid_orders = gmv_minor = 0
    referral_orders = referral_gmv_minor = 0
    landings = factory.LazyFunction(dict)
    visitor_set = product_set = cart_set = ordering_set = paying_set = factory.LazyFunction(_empty_set)
    customer_set = repeater_set = newcomer_set = factory.LazyFunction(_empty_set)


class RollupMarkFactory(BaseFactory):
    class Meta:
        model = RollupMark

    name = "day_figures"
    through = factory.LazyFunction(lambda: utcnow().date() - timedelta(days=1))


class OrderFactFactory(BaseFactory):
    """The fact of an order (order_id, user_id and total_minor required), placed today,
    unpaid."""

    class Meta:
        model = OrderFact

    visitor = factory.Sequence(lambda n: f"{n:032x}")
    kind = "standard"
    currency = "CNY"
    refunded_minor = 0
    source = "direct"
    placed_day = factory.LazyFunction(lambda: utcnow().date())
    counted = False


class AcquisitionFactory(BaseFactory):
    """Where a user (user_id required) came from: direct, today."""

    class Meta:
        model = Acquisition

    day = factory.LazyFunction(lambda: utcnow().date())
    source = "direct"


class ProductSalesFactory(BaseFactory):
    """When a product (product_id required) last sold: now."""

    class Meta:
        model = ProductSales

    last_sold_at = factory.LazyFunction(utcnow)


class SalesDayFactory(BaseFactory):
    """One product's sales of a day (item_id required): nothing yet."""

    class Meta:
        model = SalesDay

    day = factory.LazyFunction(lambda: utcnow().date())
    kind = "product"
    orders = units = revenue_minor = discount_minor = views = 0


class ProductMilestoneFactory(BaseFactory):
    """A product (product_id required) crossing 100 sales, now."""

    class Meta:
        model = ProductMilestone

    threshold = 100
    reached_at = factory.LazyFunction(utcnow)


from shop.audit.models import AuditEntry, tables_text  # noqa: E402


class AuditEntryFactory(BaseFactory):
    """A recorded backoffice action: by default an admin's successful store edit."""

    class Meta:
        model = AuditEntry

    actor_id = factory.LazyFunction(lambda: UserFactory(role="admin").id)
    actor_role = "admin"
    endpoint = "stores_admin.store_form"
    domain = factory.LazyAttribute(lambda o: o.endpoint.rpartition(".")[0])
    method = "POST"
    path = "/admin/stores/1"
    target = "store_id=1"
    status = 303
    form = factory.LazyFunction(dict)
    changes = factory.LazyFunction(list)
    tables = factory.LazyAttribute(lambda o: tables_text(o.changes))


from shop.customers.models import CustomerTag  # noqa: E402


class CustomerTagFactory(BaseFactory):
    """A tag on a (new) customer."""

    class Meta:
        model = CustomerTag

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    name = factory.Sequence(lambda n: f"标签{n}")


from shop.wallet.models import RechargePackage  # noqa: E402


class RechargePackageFactory(BaseFactory):
    """Pay 100.00, get 110.00 in the wallet."""

    class Meta:
        model = RechargePackage

    pay_minor = 10000
    credit_minor = 11000
    active = True


from shop.accounts.models import Passkey  # noqa: E402


class PasskeyFactory(BaseFactory):
    """A passkey of a (new) account, made without its private key: it can be listed and
    removed, not signed in with (tests/accounts/soft_authenticator.py makes ones that
    sign in, through the shop's ceremony)."""

    class Meta:
        model = Passkey

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    credential_id = factory.Sequence(lambda n: f"Y3JlZGVudGlhbC0{n:04d}")
    public_key = b"\xa5\x01\x02\x03\x26"
    sign_count = 0
    user_handle = factory.Sequence(lambda n: f"aGFuZGxlLQ{n:04d}")
    name = factory.Sequence(lambda n: f"我的手机{n}")
    created_at = factory.LazyFunction(utcnow)


# --- the home page (shop.home) --------------------------------------------------------------

from shop.home.models import Collection, CollectionProduct, HomeBlock, HomeSlide  # noqa: E402


class CollectionFactory(BaseFactory):
    """A published collection of products chosen one by one (none yet)."""

    class Meta:
        model = Collection

    title = factory.Sequence(lambda n: f"专题{n}")
    translations = factory.LazyAttribute(lambda o: {"en": {"title": f"Collection {o.title}"}})
    description = "精选好物"
    published = True
    mode = "picked"


class CollectionProductFactory(BaseFactory):
    class Meta:
        model = CollectionProduct

    collection_id = factory.LazyFunction(lambda: CollectionFactory().id)
    product_id = factory.LazyFunction(lambda: ProductFactory().id)
    position = factory.Sequence(lambda n: n)


class HomeBlockFactory(BaseFactory):
    """A published home block, always shown (no window); categories by default."""

    class Meta:
        model = HomeBlock

    kind = "categories"
    position = factory.Sequence(lambda n: n)
    title = ""
    translations = factory.LazyFunction(dict)
    published = True
    settings = factory.LazyFunction(dict)


class HomeSlideFactory(BaseFactory):
    """A banner's slide to a campaign page, with an image key that names no file."""

    class Meta:
        model = HomeSlide

    block_id = factory.LazyFunction(lambda: HomeBlockFactory(kind="banner").id)
    position = factory.Sequence(lambda n: n)
    alt = factory.Sequence(lambda n: f"横幅{n}")
    translations = factory.LazyFunction(dict)
    image_key = factory.Sequence(lambda n: f"slide{n:019d}xxxxx"[:24])
    image_width = 1200
    image_height = 500
    image_widths = "480,960,1200"
    link_kind = "campaign"
    link_page = "groups"


class SynonymGroupFactory(BaseFactory):
    """Search words that find each other (shop.search)."""

    class Meta:
        model = SynonymGroup

    terms = factory.LazyFunction(lambda: ["芒果", "芒", "mango"])
    one_way = False
