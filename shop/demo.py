"""Demo data: one account per role and a bilingual (Chinese first, English translation)
catalog of 9 top categories, 27 sub-categories and 66 products with SKUs and generated
images, for trying the shop locally (`flask shop demo`).

Idempotent: every row has a natural key (user email, category slug, product code
"demo-<slug>", SKU code "demo-<slug>-<n>") that is checked before creating, so a second
run creates nothing and returns all zeros. Variation (stock, sales, cost) comes from a
seeded random.Random(42), so runs are deterministic. Flushes, never commits.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.services import register_user
from shop.catalog.models import Category, Product, Sku
from shop.catalog.services import ProductData, SkuRow, add_image, save_category, save_product
from shop.db import db, utcnow
from shop.home.demo import load_home
from shop.media.services import save_pixels
from shop.search.demo import load_search_words
from shop.wallet import services as wallet
from shop.wallet.models import WalletEntry

# (email, password, nickname, role)
DEMO_ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("admin@example.com", "admin12345", "管理员", "admin"),
    ("editor@example.com", "editor12345", "编辑小王", "editor"),
    ("staff@example.com", "staff12345", "门店小李", "staff"),
    ("shopper@example.com", "shopper12345", "买家小张", "shopper"),
    ("friend@example.com", "friend12345", "好友小陈", "shopper"),  # leads the demo group buy
]

CURRENCY = "CNY"
FEATURED = {"hainan-mango", "chile-cherries", "daily-nuts", "niacinamide-serum", "diapers",
            "nonstick-pan", "gan-charger", "tws-earbuds", "linen-shirt", "longjing"}
DRAFT = {"bath-toys", "plum-wine"}
OFF_SALE = {"thai-durian"}  # out of season
SOLD_OUT = {"pistachios"}  # every SKU at stock 0

# English labels for option names and Chinese option values; ASCII values (S, 500ml)
# are shown as they are.
OPTION_EN: dict[str, str] = {
    "规格": "Size", "颜色": "Colour", "尺码": "Size", "口味": "Flavour", "色号": "Shade",
    "香型": "Scent", "适用机型": "Model",
    "3斤装": "1.5 kg", "5斤装": "2.5 kg", "9斤装": "4.5 kg", "10斤装": "5 kg", "2斤装": "1 kg",
    "4斤装": "2 kg", "5斤中果": "2.5 kg, medium fruit", "10斤大果": "5 kg, large fruit",
    "1斤礼盒": "500 g gift box", "2斤礼盒": "1 kg gift box", "5斤礼盒": "2.5 kg gift box",
    "12个装": "12 fruits", "22个装": "22 fruits", "3-4斤": "1.5-2 kg", "4-5斤": "2-2.5 kg",
    "15袋装": "15 packs", "30袋装": "30 packs", "1kg箱装": "1 kg box",
    "原味": "Original", "紫薯味": "Purple sweet potato", "抹茶味": "Matcha",
    "经典麻辣": "Classic mala", "香辣": "Hot & spicy", "甜辣": "Sweet & spicy", "微辣": "Mild",
    "中辣": "Medium hot", "特辣": "Extra hot", "南瓜味": "Pumpkin", "胡萝卜味": "Carrot",
    "正红色": "Classic red", "豆沙色": "Rosewood", "枫叶红": "Maple red", "奶茶色": "Milk tea",
    "象牙白": "Ivory", "自然色": "Natural", "白茶": "White tea", "樱花": "Cherry blossom",
    "西柚": "Grapefruit", "80抽×3包": "80 wipes × 3", "80抽×10包": "80 wipes × 10",
    "80粒": "80 pieces", "160粒": "160 pieces", "6件套": "Set of 6", "8件套": "Set of 8",
    "12件套": "Set of 12", "3件套": "Set of 3", "5件套": "Set of 5", "五件套": "5-piece set",
    "奶白": "Cream white", "雾蓝": "Misty blue", "中号": "Medium", "大号": "Large",
    "单只装": "Single", "一对装": "Pair", "白色": "White", "黑色": "Black", "灰色": "Grey",
    "蓝色": "Blue", "薄荷绿": "Mint green", "透明": "Clear", "银色": "Silver",
    "深空灰": "Space grey", "浅蓝": "Light blue", "米白": "Off-white", "燕麦": "Oatmeal",
    "卡其": "Khaki", "1米": "1 m", "2米": "2 m", "24颗": "24 cups", "48颗": "48 cups",
    "经典拼配": "Classic blend", "埃塞俄比亚": "Ethiopia", "哥伦比亚": "Colombia",
}


class Spec(NamedTuple):
    """One demo product. Points are "|"-separated; options "颜色/尺码"; skus
    "白色/S=15900;白色/M=15900" (values "/"-separated, price in fen)."""

    slug: str
    category: str  # child category slug
    title: str
    title_en: str
    subtitle: str
    subtitle_en: str
    points: str
    points_en: str
    intro: str
    intro_en: str
    options: str
    skus: str


# Each top category: slug, names, palette (gradient top, gradient bottom, accent), a
# second description paragraph shared by its products, children and product rows.
CATEGORIES: list[dict] = [
    {"slug": "fresh-fruit", "name": "生鲜水果", "name_en": "Fresh fruit",
     "colours": ((255, 214, 153), (255, 138, 101), (230, 81, 0)),
     "note": ("产地直采，顺丰冷链或快递48小时内发货。收到后如有坏果，请在24小时内拍照联系客服，按坏果比例退款。",
              "Sourced directly from the growing region and shipped within 48 hours by cold chain or express courier. If any fruit arrives damaged, send us a photo within 24 hours and we refund the damaged share."),
     "children": [("seasonal-fruit", "当季水果", "Seasonal fruit"), ("imported-fruit", "进口水果", "Imported fruit"),
                  ("fresh-vegetables", "新鲜蔬菜", "Fresh vegetables")],
     "products": [
        ("hainan-mango", "seasonal-fruit", "海南贵妃芒 新鲜当季", "Hainan Guifei mangoes", "树上自然熟，香甜多汁", "Tree-ripened, sweet and juicy",
         "海南三亚产地直发|果肉细腻无渣|单果200-350g", "Shipped direct from Sanya, Hainan|Smooth, fibre-free flesh|200-350 g per fruit",
         "贵妃芒皮薄肉厚，成熟后果皮红黄相间，香气浓郁。", "Guifei mangoes have thin skins and thick flesh; when ripe the skin turns red and yellow and the aroma is rich.",
         "规格", "3斤装=2990;5斤装=4590;9斤装=7990"),
        ("yantai-apples", "seasonal-fruit", "烟台红富士苹果 脆甜多汁", "Yantai Fuji apples", "山东烟台栖霞果园直发", "Straight from orchards in Qixia, Yantai",
         "果径80mm以上|冰糖心，脆甜爽口|整箱防震包装", "80 mm+ diameter|Sugar core, crisp and sweet|Shock-proof boxed packaging",
         "栖霞地处胶东半岛，昼夜温差大，苹果糖分积累充足，口感脆甜。", "Qixia on the Jiaodong Peninsula has big day-night temperature swings, so the apples build up plenty of sugar and eat crisp and sweet.",
         "规格", "5斤中果=3690;10斤大果=6990"),
        ("gannan-oranges", "seasonal-fruit", "赣南脐橙 现摘现发", "Gannan navel oranges", "酸甜适中，一剥就开", "Balanced sweet and tart, easy to peel",
         "江西赣州核心产区|无打蜡无保鲜剂|坏果包赔", "From the heart of Ganzhou, Jiangxi|No wax, no preservatives|Damaged fruit refunded",
         "赣南脐橙果形端正，果肉细嫩化渣，维生素C含量丰富，适合全家分享。", "Gannan navel oranges are well shaped with tender, melting flesh and plenty of vitamin C - one for the whole family.",
         "规格", "5斤装=2990;10斤装=4990"),
        ("chile-cherries", "imported-fruit", "智利车厘子 JJ级", "Chilean cherries, JJ grade", "空运直达，深红饱满", "Air-freighted, deep red and plump",
         "果径28-30mm|全程冷链配送|礼盒包装，送礼体面", "28-30 mm fruit|Cold chain all the way|Gift box, ready to give",
         "精选智利中部产区车厘子，果肉紧实、甜度高，过年送礼和自家享用都合适。", "Cherries from central Chile with firm flesh and high sweetness, good for New Year gifts or your own table.",
         "规格", "1斤礼盒=5990;2斤礼盒=11590;5斤礼盒=26900"),
        ("sungold-kiwi", "imported-fruit", "新西兰佳沛阳光金果", "Zespri SunGold kiwifruit", "金色果肉，维C满满", "Golden flesh, packed with vitamin C",
         "新西兰原装进口|单果90-110g|软熟即食", "Imported from New Zealand|90-110 g per fruit|Ready to eat when soft",
         "阳光金果果肉金黄，口感香甜少酸，一颗即可满足一天所需维生素C。", "SunGold kiwifruit have golden, sweet and mild flesh; one fruit covers a day's vitamin C.",
         "规格", "12个装=8990;22个装=14900"),
        ("thai-durian", "imported-fruit", "泰国金枕榴莲 整果", "Thai Monthong durian", "肉厚核小，香甜软糯", "Thick flesh, small seeds, sweet and creamy",
         "泰国东部产区|自然成熟开口|称重发货，多退少补", "From eastern Thailand|Naturally ripened|Weighed at dispatch, difference refunded",
         "金枕榴莲果肉金黄、奶香浓郁，是榴莲爱好者的首选品种。", "Monthong durian has golden flesh and a rich, creamy fragrance - the favourite of durian lovers.",
         "规格", "3-4斤=16800;4-5斤=20800"),
        ("yunnan-veg-box", "fresh-vegetables", "云南高原蔬菜组合箱", "Yunnan highland vegetable box", "6-8种当季时蔬，一箱配齐", "6-8 seasonal vegetables in one box",
         "海拔1800米种植基地|当天采摘当天发货|搭配随季节调整", "Grown at 1,800 m altitude|Picked and shipped the same day|Mix changes with the season",
         "云南高原光照充足、气候凉爽，蔬菜生长周期长，口感清甜爽脆。", "Yunnan's highlands are sunny and cool, so vegetables grow slowly and taste sweet and crisp.",
         "规格", "5斤装=3990;10斤装=6990"),
        ("cherry-tomatoes", "fresh-vegetables", "有机千禧小番茄", "Organic cherry tomatoes", "酸甜爆汁，生吃更香", "Sweet, tangy and juicy - best eaten raw",
         "有机认证基地|自然成熟，不催红|洗净即食", "Certified organic farm|Ripened naturally, never forced|Rinse and eat",
         "千禧小番茄皮薄汁多，酸甜平衡，是办公室和孩子们的健康零食。", "Qianxi cherry tomatoes have thin skins and lots of juice - a healthy snack for the office and for kids.",
         "规格", "2斤装=2590;4斤装=4590"),
     ]},
    {"slug": "snacks", "name": "休闲零食", "name_en": "Snacks",
     "colours": ((255, 236, 179), (255, 183, 77), (191, 54, 12)),
     "note": ("独立小包装，方便分享；开封后请密封保存，尽快食用。满99元包邮，未拆封商品支持7天无理由退换。",
              "Individually packed for easy sharing; once opened, seal and eat soon. Free shipping over ¥99, and unopened items can be returned within 7 days, no reason needed."),
     "children": [("nuts-seeds", "坚果炒货", "Nuts & seeds"), ("biscuits-pastries", "饼干糕点", "Biscuits & pastries"),
                  ("spicy-snacks", "辣味零食", "Spicy snacks")],
     "products": [
        ("daily-nuts", "nuts-seeds", "每日坚果 混合果仁", "Daily mixed nuts", "6种坚果果干科学配比", "Six nuts and dried fruits in balance",
         "每袋25g，一天一袋|低温烘焙，保留营养|充氮保鲜", "25 g per pack, one a day|Low-temperature roasted|Nitrogen-flushed for freshness",
         "腰果、巴旦木、榛子、核桃仁搭配蔓越莓干和蓝莓干，早餐和下午茶都合适。", "Cashews, almonds, hazelnuts and walnuts with dried cranberries and blueberries, for breakfast or an afternoon break.",
         "规格", "15袋装=5990;30袋装=9990"),
        ("pecans", "nuts-seeds", "奶油味碧根果", "Cream-flavoured pecans", "壳薄易剥，果仁饱满", "Thin shells, easy to crack, full kernels",
         "附赠开壳器|奶香浓郁不腻|罐装防潮", "Shell opener included|Creamy but not cloying|Moisture-proof jar",
         "精选大颗碧根果，经奶油调味慢火烘烤，果仁香脆，越吃越香。", "Large pecans slow-roasted with a cream seasoning; crunchy kernels that keep you reaching for more.",
         "规格", "200g=2990;500g=6490"),
        ("pistachios", "nuts-seeds", "原色开心果 无漂白", "Natural pistachios, unbleached", "自然开口，颗颗饱满", "Naturally split, plump kernels",
         "美国加州原料|无漂白无添加|轻盐烘焙", "Nuts from California|No bleaching, no additives|Lightly salted and roasted",
         "开心果保持自然原色，果仁翠绿，咸香适中，是追剧和聚会的好搭档。", "These pistachios keep their natural colour and green kernels, lightly salted - perfect for TV nights and parties.",
         "规格", "250g=3290;500g=5990"),
        ("egg-yolk-pastry", "biscuits-pastries", "流心蛋黄酥 6枚礼盒", "Salted egg-yolk pastries", "层层起酥，咸甜交融", "Flaky layers, sweet meets salty",
         "整颗咸蛋黄|动物黄油制作|6枚礼盒装", "A whole salted yolk inside|Made with real butter|Gift box of 6",
         "酥皮包裹红豆沙与流油咸蛋黄，烤至金黄，微波炉加热10秒口感更佳。", "Flaky pastry around red-bean paste and a rich salted yolk, baked golden; 10 seconds in the microwave makes it even better.",
         "口味", "原味=3990;紫薯味=3990;抹茶味=4290"),
        ("soda-crackers", "biscuits-pastries", "香葱苏打饼干", "Scallion soda crackers", "薄脆咸香，整箱囤货", "Thin, crisp and savoury - stock up by the box",
         "发酵工艺，好消化|独立小包装|1kg家庭装", "Fermented dough, easy to digest|Individually wrapped|1 kg family box",
         "传统发酵苏打饼干加入香葱，咸香酥脆，早餐配牛奶或加班充饥都方便。", "Traditional fermented soda crackers with scallion, savoury and crisp - handy with milk at breakfast or during overtime.",
         "规格", "1kg箱装=2590"),
        ("spicy-strips", "spicy-snacks", "辣条大礼包", "Spicy gluten strip party pack", "童年的味道，麻辣过瘾", "A taste of childhood, hot and numbing",
         "多种口味混装|独立小包|追剧必备", "Assorted flavours|Individually packed|Essential for binge-watching",
         "经典面筋辣条，Q弹有嚼劲，麻辣鲜香，一口回到学生时代。", "Classic wheat-gluten strips: chewy, spicy and numbing - one bite takes you back to school.",
         "口味", "经典麻辣=1290;香辣=1290;甜辣=1390"),
        ("duck-necks", "spicy-snacks", "卤味鸭脖", "Braised spicy duck necks", "秘制卤料，越啃越香", "Secret braising spices, more flavour with every bite",
         "鲜鸭现卤|锁鲜小包装|冷藏口感更佳", "Braised from fresh duck|Sealed small packs|Even better chilled",
         "二十余种香料慢火卤制，麻辣入骨，肉质紧实，是下酒追剧的经典卤味。", "Slow-braised in more than twenty spices; firm meat and a classic with drinks or a show.",
         "口味", "香辣=2990;微辣=2990"),
        ("beef-jerky", "spicy-snacks", "内蒙古风干牛肉干", "Inner Mongolian beef jerky", "手撕风干，越嚼越香", "Hand-torn and air-dried, richer the longer you chew",
         "草原黄牛肉|风干工艺，高蛋白|真空独立包装", "Grassland beef|Air-dried, high in protein|Vacuum-sealed packs",
         "选用内蒙古草原牛后腿肉，传统风干工艺制作，肉丝紧实，原汁原味。", "Hind-leg beef from the Inner Mongolian grasslands, air-dried the traditional way; dense fibres and natural flavour.",
         "口味", "原味=6990;香辣=6990"),
     ]},
    {"slug": "beauty-care", "name": "美妆个护", "name_en": "Beauty & care",
     "colours": ((248, 187, 208), (206, 147, 216), (173, 20, 87)),
     "note": ("品牌官方授权，假一赔十。建议先在耳后或手腕内侧试用，敏感肌请谨慎使用。",
              "Officially authorised stock, with a ten-fold refund if anything is not genuine. Patch-test behind the ear or on the inner wrist first; sensitive skin should take care."),
     "children": [("skincare", "面部护肤", "Skincare"), ("makeup", "彩妆香水", "Make-up & fragrance"),
                  ("bath-body", "洗护清洁", "Bath & body")],
     "products": [
        ("hyaluronic-toner", "skincare", "玻尿酸补水爽肤水", "Hyaluronic hydrating toner", "一拍水润，干皮救星", "Instant moisture, a rescue for dry skin",
         "三重玻尿酸|无酒精无香精|湿敷更滋润", "Triple hyaluronic acid|Alcohol- and fragrance-free|Use as a compress for extra moisture",
         "质地清爽如水，快速渗透肌肤，洁面后第一步使用，为后续护肤打底。", "Light as water and quick to absorb; use right after cleansing to prepare skin for the rest of your routine.",
         "规格", "200ml=8900;400ml=15900"),
        ("niacinamide-serum", "skincare", "烟酰胺亮肤精华液", "Niacinamide brightening serum", "提亮肤色，改善暗沉", "Brightens tone, fades dullness",
         "5%烟酰胺|温和不刺激|28天焕亮", "5% niacinamide|Gentle formula|Visible glow in 28 days",
         "高纯度烟酰胺搭配积雪草提取物，帮助均匀肤色，早晚均可使用。", "High-purity niacinamide with centella extract helps even out skin tone; suitable morning and night.",
         "规格", "30ml=12900;50ml=19900"),
        ("sunscreen", "skincare", "清爽防晒乳 SPF50+", "Light sunscreen SPF50+", "轻薄不油腻，通勤户外都适用", "Light and non-greasy, for commuting or outdoors",
         "SPF50+ PA++++|防水防汗|可作妆前乳", "SPF50+ PA++++|Water- and sweat-resistant|Works as a make-up primer",
         "物化结合防晒配方，成膜快不泛白，出门前15分钟涂抹，户外每2小时补涂。", "A hybrid filter formula that sets fast without a white cast; apply 15 minutes before going out and every 2 hours outdoors.",
         "规格", "50ml=9900;50ml×2=17900"),
        ("matte-lipstick", "makeup", "丝绒哑光口红", "Velvet matte lipstick", "一抹显色，持久不拔干", "Rich colour in one stroke, long-wearing, never drying",
         "四色可选|丝绒雾面质地|精美礼盒", "Four shades|Velvet matte finish|Elegant gift box",
         "细腻粉质包裹滋润油脂，上唇顺滑不卡纹，日常通勤与约会妆容都适合。", "Fine powders wrapped in nourishing oils glide on without settling into lines - for the office or a date.",
         "色号", "正红色=12900;豆沙色=12900;枫叶红=12900;奶茶色=12900"),
        ("cushion-foundation", "makeup", "轻透气垫粉底", "Light cushion foundation", "轻薄服帖，遮瑕持妆", "Light and smooth, covers and lasts",
         "含替换装|SPF30防晒|持妆8小时", "Refill included|SPF30|8-hour wear",
         "水润精华型粉底液，轻拍即可打造自然光泽底妆，适合中性和干性肌肤。", "A watery, serum-like foundation that pats on to a natural glow; suits normal and dry skin.",
         "色号", "象牙白=15900;自然色=15900"),
        ("amino-shampoo", "bath-body", "氨基酸无硅油洗发水", "Amino-acid silicone-free shampoo", "温和洁净，蓬松不扁塌", "Gentle clean, fluffy not flat",
         "氨基酸表活|无硅油配方|清新柑橘香", "Amino-acid surfactants|Silicone-free|Fresh citrus scent",
         "温和的氨基酸清洁成分，洗后头发清爽蓬松，适合油性及混合性头皮。", "Gentle amino-acid cleansers leave hair light and full; suits oily and combination scalps.",
         "规格", "500ml=5990;500ml×2=9990"),
        ("body-wash", "bath-body", "香氛沐浴露", "Scented body wash", "留香持久，洗后不假滑", "Long-lasting scent, rinses clean",
         "三种香型|弱酸性配方|1L大容量", "Three scents|Mildly acidic formula|Large 1 L bottle",
         "调香师定制香氛，沐浴后肌肤留有淡淡香气，泡沫细腻易冲洗。", "A perfumer-designed fragrance that lingers softly after your shower, with a fine lather that rinses easily.",
         "香型", "白茶=4990;樱花=4990;西柚=4990"),
     ]},
    {"slug": "mother-baby", "name": "母婴用品", "name_en": "Mother & baby",
     "colours": ((179, 229, 252), (197, 225, 165), (2, 119, 189)),
     "note": ("严选母婴品类，均通过国家相关安全标准检测。宝宝用品请在成人看护下使用。",
              "Carefully selected baby products, tested to the national safety standards. Use baby products under adult supervision."),
     "children": [("diapers-wipes", "纸尿裤湿巾", "Diapers & wipes"), ("feeding", "喂养用品", "Feeding"),
                  ("toys", "儿童玩具", "Toys")],
     "products": [
        ("diapers", "diapers-wipes", "超薄透气纸尿裤", "Ultra-thin breathable diapers", "干爽一整夜，宝宝睡得香", "Dry all night for sound sleep",
         "0.2cm超薄芯体|3D立体护围防侧漏|弱酸性亲肤表层", "0.2 cm ultra-thin core|3D leak guards|Mildly acidic, skin-friendly top sheet",
         "蓬松绵柔表层配合高分子吸水芯体，快速吸收，减少回渗，宝宝屁屁更干爽。", "A soft top sheet and a super-absorbent core soak up quickly with little rewetting, keeping baby dry.",
         "尺码", "S=9900;M=9900;L=10900;XL=10900"),
        ("pull-ups", "diapers-wipes", "学步拉拉裤", "Toddler pull-up pants", "像内裤一样穿脱方便", "On and off like underwear",
         "360°弹力腰围|适合学步期宝宝|可撕式侧边", "360° stretch waistband|For toddlers learning to walk|Tear-away sides",
         "高弹腰围贴合宝宝身形，爬行走动都不易移位，换裤更轻松。", "A stretchy waistband hugs baby's shape and stays put while crawling and walking, so changes are easy.",
         "尺码", "L=8900;XL=8900;XXL=9900"),
        ("baby-wipes", "diapers-wipes", "婴儿手口专用湿巾", "Baby hand and mouth wipes", "EDI纯水，擦手擦嘴都安心", "EDI-purified water, safe for hands and mouths",
         "不含酒精香精|加厚珍珠纹|带盖抽取", "No alcohol or fragrance|Thick pearl texture|Resealable lid",
         "采用EDI纯水与食品级原料，加厚无纺布柔软不掉屑，外出携带方便。", "Made with EDI-purified water and food-grade ingredients; thick, soft, lint-free cloth that is easy to carry.",
         "规格", "80抽×3包=2990;80抽×10包=8990"),
        ("glass-bottle", "feeding", "宽口径玻璃奶瓶", "Wide-neck glass baby bottle", "防胀气设计，新生儿适用", "Anti-colic design for newborns",
         "高硼硅玻璃|仿母乳奶嘴|耐高温消毒", "Borosilicate glass|Breast-like teat|Safe for sterilising",
         "宽口径方便冲奶和清洗，防胀气阀减少宝宝吐奶和胀气。", "A wide neck makes mixing and cleaning easy, and the anti-colic valve reduces spit-up and wind.",
         "规格", "160ml=8900;240ml=9900"),
        ("rice-cereal", "feeding", "婴儿有机米粉", "Organic baby rice cereal", "6月龄以上辅食首选", "A first food for babies 6 months+",
         "有机大米原料|高铁配方|无添加白砂糖", "Organic rice|Iron-fortified|No added sugar",
         "细腻易冲调，温水即可冲开无结块，帮助宝宝从奶过渡到辅食。", "Smooth and easy to mix with warm water without lumps, helping babies move from milk to solids.",
         "口味", "原味=5990;南瓜味=5990;胡萝卜味=5990"),
        ("building-blocks", "toys", "大颗粒拼插积木", "Large building blocks", "锻炼动手能力，开发想象力", "Builds hand skills and imagination",
         "大颗粒防吞咽|ABS环保材质|附收纳桶", "Large pieces, too big to swallow|Eco ABS plastic|Storage tub included",
         "兼容主流大颗粒积木，圆角设计不伤手，适合2岁以上宝宝和家长一起玩。", "Compatible with mainstream large bricks, with rounded edges; for children 2+ to play with their parents.",
         "规格", "80粒=8900;160粒=15900"),
        ("bath-toys", "toys", "宝宝洗澡戏水玩具套装", "Baby bath toy set", "小黄鸭陪洗澡，不再哭闹", "Rubber ducks make bath time fun",
         "软胶材质可捏响|无孔设计不藏污|6件套", "Squeezable soft rubber|Hole-free, nothing hides inside|Set of 6",
         "无孔一体设计，洗完甩干即可，避免内部发霉，让洗澡时间变成亲子游戏时间。", "A sealed, hole-free design shakes dry without mould inside, turning bath time into play time.",
         "规格", "6件套=4990"),
     ]},
    {"slug": "home", "name": "家居日用", "name_en": "Home",
     "colours": ((239, 235, 233), (188, 170, 164), (93, 64, 55)),
     "note": ("支持7天无理由退换，大件商品送货上门。首次使用前请仔细阅读说明书。",
              "7-day no-reason returns; bulky items are delivered to your door. Please read the instructions before first use."),
     "children": [("storage", "收纳整理", "Storage"), ("kitchen", "厨房用品", "Kitchen"), ("bedding", "床上用品", "Bedding")],
     "products": [
        ("storage-box", "storage", "可折叠布艺收纳箱", "Foldable fabric storage box", "衣柜整理好帮手", "Your wardrobe's tidy helper",
         "不用时可折叠|加厚棉麻面料|带透明视窗", "Folds flat when not in use|Thick cotton-linen fabric|Clear window",
         "钢丝支撑框架，装满也不变形，适合收纳衣物、被子和玩具。", "A steel-wire frame keeps its shape even when full; for clothes, quilts and toys.",
         "颜色/规格", "奶白/中号=2990;奶白/大号=3990;雾蓝/中号=2990;雾蓝/大号=3990"),
        ("vacuum-bags", "storage", "真空压缩收纳袋", "Vacuum storage bags", "换季棉被省空间", "Save space when the seasons change",
         "节省70%空间|附电动抽气泵|加厚PA+PE材质", "Saves 70% of the space|Electric pump included|Thick PA+PE film",
         "换季衣物和棉被一抽即扁，防潮防霉防虫，让衣柜多出一半空间。", "Seasonal clothes and quilts flatten in seconds, safe from damp, mould and moths - half your wardrobe back.",
         "规格", "8件套=3990;12件套=5490"),
        ("nonstick-pan", "kitchen", "麦饭石不粘炒锅", "Maifan stone non-stick wok", "少油烟，煎炒不粘", "Less smoke, nothing sticks",
         "麦饭石涂层|燃气电磁炉通用|送可立锅盖", "Maifan stone coating|Works on gas and induction|Standing lid included",
         "多层复合锅底导热均匀，少油也能煎蛋不粘，轻松做出家常小炒。", "A multi-layer base heats evenly, so eggs fry without sticking even with little oil.",
         "规格", "28cm=12900;32cm=14900"),
        ("knife-set", "kitchen", "德式不锈钢刀具五件套", "German-style knife set, 5 pieces", "锋利耐用，一套配齐", "Sharp, durable, everything you need",
         "德国进口钢材|含刀座与磨刀棒|一体成型刀柄", "Imported German steel|Block and sharpening rod included|One-piece handles",
         "菜刀、切片刀、水果刀、剪刀和磨刀棒一应俱全，满足中式厨房日常需求。", "Cleaver, slicer, fruit knife, scissors and sharpening rod - all a Chinese kitchen needs every day.",
         "规格", "五件套=19900"),
        ("glass-containers", "kitchen", "耐热玻璃保鲜盒", "Glass food containers", "冷藏加热一盒搞定", "From fridge to microwave in one box",
         "高硼硅玻璃|四面锁扣密封|可进微波炉烤箱", "Borosilicate glass|Four-side locking lids|Microwave- and oven-safe",
         "带饭族必备，密封不串味，玻璃材质不吸附油污，清洗方便。", "A must for packed lunches: sealed so flavours stay put, and glass does not hold grease.",
         "规格", "3件套=4990;5件套=6990"),
        ("latex-pillow", "bedding", "泰国天然乳胶枕", "Thai natural latex pillow", "贴合颈椎，一觉睡到天亮", "Supports your neck through the night",
         "93%天然乳胶含量|波浪曲线设计|透气蜂窝孔", "93% natural latex|Contoured wave design|Breathable pin-core holes",
         "天然乳胶回弹柔和，承托头颈，透气孔设计让夏天也不闷热。", "Natural latex springs back gently to support head and neck, and ventilation holes keep it cool in summer.",
         "规格", "单只装=12900;一对装=22900"),
        ("summer-duvet", "bedding", "大豆纤维夏凉被", "Soybean-fibre summer duvet", "轻薄透气，可机洗", "Light, breathable and machine-washable",
         "大豆纤维填充|全棉面料|水洗不变形", "Soybean-fibre filling|All-cotton cover|Keeps its shape after washing",
         "大豆纤维柔软亲肤，吸湿透气，适合空调房和春夏季节使用。", "Soybean fibre is soft on the skin and breathes well - ideal for air-conditioned rooms in spring and summer.",
         "规格", "150×200cm=15900;200×230cm=19900"),
     ]},
    {"slug": "digital", "name": "数码配件", "name_en": "Digital accessories",
     "colours": ((144, 202, 249), (121, 134, 203), (26, 35, 126)),
     "note": ("全国联保一年，支持以旧换新。兼容主流手机及平板，具体机型请咨询客服。",
              "One-year nationwide warranty and trade-in available. Works with mainstream phones and tablets; ask customer service about your model."),
     "children": [("charging", "充电配件", "Charging"), ("audio", "耳机音箱", "Audio"),
                  ("phone-accessories", "手机周边", "Phone accessories")],
     "products": [
        ("gan-charger", "charging", "65W氮化镓快充充电器", "65W GaN fast charger", "一个充电头，手机电脑都能充", "One charger for phone and laptop",
         "2C1A三口输出|折叠插脚便携|智能温控", "Three ports: 2 USB-C, 1 USB-A|Folding prongs|Smart temperature control",
         "氮化镓技术体积小发热低，支持主流快充协议，笔记本电脑也能满速充电。", "GaN keeps it small and cool; supports mainstream fast-charging protocols and charges laptops at full speed.",
         "颜色", "白色=12900;黑色=12900"),
        ("power-bank", "charging", "20000mAh大容量充电宝", "20,000 mAh power bank", "出差旅行一周不断电", "A week of trips without running flat",
         "22.5W双向快充|可带上飞机|数显电量", "22.5W fast charging both ways|Airline-approved|Digital battery display",
         "大容量电芯可为手机充电4-5次，自带数显屏，电量一目了然。", "A large cell charges a phone 4-5 times, and the built-in display shows exactly how much is left.",
         "颜色", "白色=9900;黑色=9900"),
        ("usb-c-cable", "charging", "编织快充数据线 Type-C", "Braided USB-C cable", "耐弯折，用得久", "Bend-proof and long-lasting",
         "支持100W快充|尼龙编织线身|弯折测试2万次", "Supports 100W charging|Nylon-braided|Tested to 20,000 bends",
         "铝合金接头搭配尼龙编织线身，结实耐用，支持数据传输与快充。", "Aluminium plugs and a nylon-braided body: tough and durable, for data and fast charging.",
         "规格", "1米=1990;2米=2590"),
        ("tws-earbuds", "audio", "主动降噪真无线蓝牙耳机", "ANC true wireless earbuds", "通勤降噪，沉浸音乐", "Quiet commutes, immersive music",
         "主动降噪深度40dB|续航30小时|蓝牙5.3低延迟", "Up to 40 dB noise cancelling|30-hour battery|Bluetooth 5.3, low latency",
         "半入耳式设计佩戴舒适，通透模式可随时听清周围声音，支持双设备连接。", "A comfortable semi-in-ear fit, a transparency mode when you need to hear the world, and two devices at once.",
         "颜色", "白色=19900;黑色=19900;薄荷绿=20900"),
        ("bt-speaker", "audio", "便携防水蓝牙音箱", "Portable waterproof speaker", "露营野餐随身嗨", "Take the party camping or on a picnic",
         "IPX7级防水|12小时续航|双机互联立体声", "IPX7 waterproof|12-hour battery|Pair two for stereo",
         "小巧机身带来饱满低音，挂绳设计方便户外携带，淋雨也不怕。", "A compact body with full bass and a carry strap for the outdoors - rain is no problem.",
         "颜色", "黑色=15900;蓝色=15900"),
        ("magnetic-case", "phone-accessories", "磁吸透明手机壳", "Magnetic clear phone case", "不发黄，支持磁吸充电", "Won't yellow, works with magnetic charging",
         "内置N52磁铁|四角气囊防摔|镜头加高保护", "Built-in N52 magnets|Air-cushioned corners|Raised camera lip",
         "高透亚克力背板，长期使用不易发黄，磁吸配件一贴即吸。", "A high-clarity acrylic back resists yellowing, and magnetic accessories snap right on.",
         "适用机型/颜色", "iPhone 15/透明=4900;iPhone 15/黑色=4900;iPhone 15 Pro/透明=4900;iPhone 15 Pro/黑色=4900"),
        ("phone-stand", "phone-accessories", "铝合金桌面手机支架", "Aluminium phone stand", "追剧视频通话解放双手", "Hands-free for shows and video calls",
         "多角度可调|铝合金稳固|兼容平板", "Adjustable angle|Sturdy aluminium|Fits tablets too",
         "折叠后可放进包里，底座加重防滑，横竖屏使用都很稳定。", "Folds to fit in a bag, with a weighted non-slip base that is steady in portrait or landscape.",
         "颜色", "银色=3990;深空灰=3990"),
     ]},
    {"slug": "clothing-bags", "name": "服饰鞋包", "name_en": "Clothing & bags",
     "colours": ((236, 239, 241), (176, 190, 197), (55, 71, 79)),
     "note": ("尺码请参考详情页尺码表，不确定时建议咨询客服。支持7天无理由退换，运费险覆盖首次退换。",
              "Check the size chart on the details page and ask customer service if unsure. 7-day no-reason returns, with return shipping insurance for the first exchange."),
     "children": [("womenswear", "女装", "Women"), ("menswear", "男装", "Men"), ("shoes-bags", "鞋靴箱包", "Shoes & bags")],
     "products": [
        ("linen-shirt", "womenswear", "女士亚麻休闲衬衫", "Women's linen shirt", "透气垂坠，夏日通勤", "Airy, drapes well, for summer commutes",
         "55%亚麻混纺|宽松落肩版型|可外穿可打底", "55% linen blend|Relaxed dropped-shoulder cut|Wear open or buttoned",
         "亚麻面料天然透气吸汗，宽松版型遮肉显瘦，搭配半裙或牛仔裤都好看。", "Linen breathes and wicks naturally, and the relaxed cut flatters - pair with a skirt or jeans.",
         "颜色/尺码", "白色/S=15900;白色/M=15900;白色/L=15900;浅蓝/S=15900;浅蓝/M=15900;浅蓝/L=15900"),
        ("knit-cardigan", "womenswear", "软糯针织开衫", "Soft knit cardigan", "空调房必备，温柔百搭", "For air-conditioned rooms, goes with everything",
         "亲肤不扎|V领显脸小|不易起球", "Soft, never itchy|Flattering V-neck|Pill-resistant",
         "细腻针织手感软糯，早晚温差大时披在身上，春秋季节也能单穿。", "A fine, soft knit to throw on when evenings cool, or wear on its own in spring and autumn.",
         "颜色/尺码", "米白/M=19900;米白/L=19900;燕麦/M=19900;燕麦/L=19900"),
        ("cotton-tee", "menswear", "男士重磅纯棉圆领T恤", "Men's heavyweight cotton T-shirt", "厚实不透，不变形", "Thick, opaque and keeps its shape",
         "260g重磅精梳棉|领口加固不松垮|基础百搭款", "260 g combed cotton|Reinforced collar|Everyday basic",
         "厚实的重磅纯棉面料，洗后不易变形，单穿或内搭都合适。", "Thick heavyweight cotton that holds its shape after washing; wear alone or as a layer.",
         "颜色/尺码", "白色/M=5900;白色/L=5900;白色/XL=5900;黑色/M=5900;黑色/L=5900;黑色/XL=5900"),
        ("chinos", "menswear", "男士弹力直筒休闲裤", "Men's straight-leg chinos", "弹力舒适，通勤休闲两穿", "Stretch comfort for work and weekends",
         "含3%弹力纤维|抗皱免烫|九分直筒", "3% stretch fibre|Wrinkle-resistant|Ankle-length straight leg",
         "挺括面料抗皱易打理，直筒版型修饰腿型，搭配衬衫或T恤都得体。", "A crisp, wrinkle-resistant fabric that is easy to care for, in a straight cut that suits shirts or tees.",
         "颜色/尺码", "卡其/30=12900;卡其/32=12900;黑色/30=12900;黑色/32=12900"),
        ("white-sneakers", "shoes-bags", "轻便透气小白鞋", "Lightweight white sneakers", "一脚蹬，走一天不累", "Slip on and walk all day",
         "超纤皮面易打理|EVA轻量鞋底|男女同款", "Easy-clean microfibre upper|Light EVA sole|Unisex",
         "经典简约造型，百搭各种风格，软弹鞋底缓震舒适，适合日常通勤和旅行。", "A clean, classic look that goes with anything, with a soft, springy sole for commuting and travel.",
         "尺码", "36=19900;37=19900;38=19900;39=19900;40=19900;41=19900"),
        ("canvas-tote", "shoes-bags", "大容量帆布托特包", "Large canvas tote bag", "装得下电脑的文艺通勤包", "An arty commuter bag that fits a laptop",
         "加厚帆布|内置拉链袋|可放14寸电脑", "Heavy canvas|Inner zip pocket|Fits a 14-inch laptop",
         "加厚帆布挺括耐磨，肩带加宽不勒肩，上班上课都实用。", "Thick canvas holds its shape and wears well, with wide straps that don't dig in.",
         "颜色", "米白=6900;黑色=6900"),
        ("commuter-backpack", "shoes-bags", "防泼水通勤双肩包", "Commuter backpack", "多仓分区，出差一包搞定", "One bag for a business trip",
         "防泼水面料|独立电脑仓|USB充电口", "Water-repellent fabric|Padded laptop sleeve|USB charging port",
         "科学分区收纳，笔记本、充电器、雨伞各有位置，背负系统减压透气。", "Compartments give your laptop, charger and umbrella a place each, with a breathable harness.",
         "颜色", "黑色=15900;灰色=15900"),
     ]},
    {"slug": "tea-drinks", "name": "茶酒冲饮", "name_en": "Tea & drinks",
     "colours": ((220, 237, 200), (129, 199, 132), (27, 94, 32)),
     "note": ("请密封、避光、防潮保存。酒类商品仅售予年满18周岁的顾客，请理性饮酒。",
              "Store sealed, away from light and moisture. Alcohol is sold only to customers aged 18 or over; please drink responsibly."),
     "children": [("tea", "茗茶", "Tea"), ("coffee", "咖啡冲饮", "Coffee & instant drinks"), ("wine-spirits", "酒水", "Wine & spirits")],
     "products": [
        ("longjing", "tea", "明前西湖龙井 特级", "West Lake Longjing green tea", "豆香馥郁，鲜爽回甘", "Toasty aroma, fresh with a sweet finish",
         "杭州西湖核心产区|明前手工炒制|锡罐密封", "From the West Lake area, Hangzhou|Hand-roasted before Qingming|Sealed tin",
         "清明前采摘的一芽一叶，经传统手工炒制，汤色嫩绿明亮，滋味鲜醇。", "One bud and one leaf picked before Qingming and hand-roasted; a bright green cup with a fresh, mellow taste.",
         "规格", "50g=16800;100g=31800"),
        ("puer-cake", "tea", "云南普洱熟茶 七子饼", "Yunnan ripe Pu'er tea cake", "陈香醇厚，暖胃养人", "Mellow and aged, warming for the stomach",
         "勐海古树原料|2018年压制|357g标准饼", "Menghai old-tree leaves|Pressed in 2018|Standard 357 g cake",
         "熟普汤色红浓透亮，口感顺滑无苦涩，越存越香，适合日常饮用与收藏。", "It brews a deep, clear red and tastes smooth without bitterness; it improves with age.",
         "规格", "357g=12800;357g×2=23900"),
        ("tieguanyin", "tea", "安溪铁观音 清香型", "Anxi Tieguanyin oolong", "兰花香高，七泡有余香", "Orchid aroma through seven infusions",
         "福建安溪原产|独立小泡袋|当季新茶", "From Anxi, Fujian|Individual brewing packs|This season's harvest",
         "清香型铁观音汤色金黄，兰花香气高扬，冲泡方便，办公室也能轻松喝好茶。", "Light-style Tieguanyin brews golden with a lifted orchid aroma; easy enough for the office.",
         "规格", "250g=8800"),
        ("drip-coffee", "coffee", "精品挂耳咖啡", "Specialty drip-bag coffee", "现磨口感，30秒一杯", "Fresh-ground taste in 30 seconds",
         "新鲜烘焙|每包10g|充氮保鲜", "Freshly roasted|10 g per bag|Nitrogen-flushed",
         "精选阿拉比卡咖啡豆，中度烘焙，挂在杯上注水即可享用手冲风味。", "Selected Arabica beans, medium roasted: hang the bag on a cup and pour for a pour-over taste.",
         "口味", "经典拼配=5990;埃塞俄比亚=6990;哥伦比亚=6990"),
        ("freeze-dried-coffee", "coffee", "冷萃冻干咖啡", "Freeze-dried cold-brew coffee", "冷水3秒速溶", "Dissolves in cold water in 3 seconds",
         "0糖0脂|冷热水皆可冲|独立小杯装", "Zero sugar, zero fat|Mix hot or cold|Single-serve cups",
         "冷萃提取后低温冻干，保留咖啡香气，加牛奶或燕麦奶即成一杯拿铁。", "Cold-extracted, then freeze-dried to keep the aroma; add milk or oat milk for an instant latte.",
         "规格", "24颗=6990;48颗=12900"),
        ("shaoxing-wine", "wine-spirits", "绍兴花雕黄酒 五年陈", "Shaoxing Huadiao wine, 5-year", "温热饮用，醇厚绵甜", "Serve warm: rich, smooth and sweet",
         "鉴湖水酿造|五年窖藏|可饮可烹饪", "Brewed with Jian Lake water|Aged five years|For drinking or cooking",
         "传统手工酿造花雕，酒体琥珀色，温热后加话梅或姜丝，风味更佳。", "Traditionally brewed Huadiao with an amber body; warm it with a dried plum or ginger for the best flavour.",
         "规格", "500ml×6=12800"),
        ("plum-wine", "wine-spirits", "青梅酒 微醺果酒", "Green plum wine", "酸甜清爽，低度微醺", "Sweet, tangy and light",
         "整颗青梅浸泡|12%vol低度|冰镇口感更佳", "Steeped with whole plums|Low 12% ABV|Best served chilled",
         "精选青梅与米酒浸泡而成，果香浓郁，适合闺蜜聚会和晚餐佐餐。", "Green plums steeped in rice spirit for a rich fruit aroma - good for get-togethers or with dinner.",
         "规格", "330ml=4990;330ml×2=8990"),
     ]},
    {"slug": "pantry", "name": "粮油调味", "name_en": "Pantry",
     "colours": ((255, 224, 178), (255, 171, 145), (239, 108, 0)),
     "note": ("产地直供，新鲜日期发货。开封后请置于阴凉干燥处密封保存。",
              "Direct from the producer and shipped with a fresh production date. After opening, keep sealed in a cool, dry place."),
     "children": [("rice-grains", "米面杂粮", "Rice & grains"), ("cooking-oil", "食用油", "Cooking oil"),
                  ("seasonings", "调味酱料", "Seasonings")],
     "products": [
        ("wuchang-rice", "rice-grains", "五常稻花香大米", "Wuchang Daohuaxiang rice", "东北黑土地，一季一熟", "Northeast black soil, one harvest a year",
         "黑龙江五常原产地|当季新米|真空包装", "From Wuchang, Heilongjiang|This season's new rice|Vacuum-packed",
         "稻花香品种米粒细长，蒸煮后米香浓郁、软糯有嚼劲，凉了也不回生。", "Long, slender grains that cook up fragrant, soft and chewy, and stay tender even when cool.",
         "规格", "5kg=6990;10kg=12900"),
        ("shanxi-millet", "rice-grains", "山西沁州黄小米", "Shanxi Qinzhou yellow millet", "熬粥出米油，养胃好粮", "A silky porridge, gentle on the stomach",
         "黄土高原种植|颗粒金黄饱满|真空小袋装", "Grown on the Loess Plateau|Golden, full grains|Small vacuum packs",
         "沁州黄小米色泽金黄，熬粥时米油丰富，口感绵软，是养胃早餐佳品。", "Golden millet that cooks into a silky, soft porridge - a gentle breakfast.",
         "规格", "2.5kg=3990"),
        ("handmade-noodles", "rice-grains", "手工空心挂面", "Handmade dried noodles", "筋道爽滑，久煮不烂", "Springy and smooth, never mushy",
         "传统手工拉制|仅用小麦粉、水、盐|自然晾晒", "Hand-pulled the traditional way|Just flour, water and salt|Air-dried",
         "手工拉制形成细小空心，更易吸收汤汁，做汤面、拌面都好吃。", "Hand-pulling leaves tiny hollows that soak up broth - great in soup or tossed with sauce.",
         "规格", "1kg=1990;2kg=3590"),
        ("peanut-oil", "cooking-oil", "物理压榨一级花生油", "Pressed peanut oil, first grade", "浓香花生味，炒菜更香", "Rich peanut aroma for tastier stir-fries",
         "物理压榨工艺|非转基因花生|5L家庭装", "Mechanically pressed|Non-GMO peanuts|5 L family size",
         "精选山东大粒花生，低温压榨，保留浓郁花生香，适合中式爆炒。", "Large Shandong peanuts pressed at low temperature keep their deep aroma, ideal for wok cooking.",
         "规格", "1.8L=5990;5L=12900"),
        ("camellia-oil", "cooking-oil", "有机野山茶油", "Organic wild camellia oil", "东方橄榄油，清淡不腻", "The olive oil of the East, light and clean",
         "有机认证|冷榨工艺|烟点高适合煎炒", "Certified organic|Cold-pressed|High smoke point for frying",
         "江西山区野生油茶果冷榨而成，单不饱和脂肪酸含量高，凉拌和煎炒皆宜。", "Cold-pressed from wild camellia seeds from Jiangxi's mountains; for dressings and frying alike.",
         "规格", "500ml=9900;500ml×2=18900"),
        ("light-soy-sauce", "seasonings", "特级头道生抽", "Premium light soy sauce", "180天自然晒制，鲜味十足", "Sun-brewed for 180 days, full of umami",
         "氨基酸态氮≥1.2g/100ml|零添加防腐剂|炒菜凉拌蘸料皆宜", "Amino nitrogen 1.2 g/100 ml or more|No added preservatives|For cooking, dressing and dipping",
         "选用非转基因黄豆，传统高盐稀态工艺发酵，酱香浓郁，咸鲜适中。", "Non-GMO soybeans fermented the traditional high-salt way for a deep, balanced savoury flavour.",
         "规格", "1.28L=2290;1.28L×2=3990"),
        ("chili-crisp", "seasonings", "陕西油泼辣子", "Shaanxi chilli crisp oil", "香而不燥，拌面神器", "Fragrant, not harsh - made for noodles",
         "秦椒现泼|加芝麻花生碎|一瓶多用", "Freshly scalded Qin chillies|With sesame and crushed peanuts|Endless uses",
         "热油泼在秦椒面上激发香味，拌面、蘸饺子、炒菜都能提味增香。", "Hot oil poured over ground Qin chillies releases their fragrance - for noodles, dumplings or stir-fries.",
         "口味", "微辣=1990;中辣=1990;特辣=2190"),
        ("hotpot-base", "seasonings", "重庆牛油火锅底料", "Chongqing hotpot base", "在家吃出老火锅味道", "Old-style Chongqing hotpot at home",
         "纯牛油炒制|麻辣鲜香|一袋可煮3-4人份", "Fried in pure beef tallow|Numbing, spicy and savoury|One pack serves 3-4",
         "按重庆老火锅配方炒制，辣椒与花椒香气浓郁，涮肉煮菜都很入味。", "Made to an old Chongqing recipe with deep chilli and Sichuan pepper flavour.",
         "口味", "微辣=2990;中辣=2990;特辣=2990"),
     ]},
]


# --- loader ----------------------------------------------------------------------------


def load_demo() -> dict[str, int]:
    """Create whatever demo rows are missing; return how many of each were created."""
    counts = {"accounts": _load_accounts(), "wallet credits": _load_wallet(),
              "recharge packages": _load_packages(),
              "categories": 0, "products": 0, "skus": 0, "images": 0}
    rng = random.Random(42)
    existing = set(db.session.scalars(select(Product.code).where(Product.code.like("demo-%"))))
    index = 0
    for position, top in enumerate(CATEGORIES):
        parent = _category(counts, top["slug"], top["name"], top["name_en"], None, position)
        children = {slug: _category(counts, slug, name, name_en, parent.id, i)
                    for i, (slug, name, name_en) in enumerate(top["children"])}
        for row in top["products"]:
            spec = Spec(*row)
            plan = _plan(spec, rng)  # always drawn, so the sequence never depends on the DB
            index += 1
            if f"demo-{spec.slug}" in existing:
                continue
            product = _create_product(spec, children[spec.category].id, top, plan)
            counts["products"] += 1
            counts["skus"] += len(plan["stocks"])
            for variant in range(plan["images"]):
                add_image(product, save_pixels(_draw(spec.title_en, top["name_en"], top["colours"],
                                                     index, variant)))
                counts["images"] += 1
    counts["articles"] = _load_articles()
    counts["distributors"] = _load_distribution()
    counts["member levels"] = _load_member_levels()
    counts["points mall items"] = _load_points()
    counts["group buys"] = _load_group_buys()
    counts["bargains"] = _load_bargains()
    counts["promotions"] = _load_promotions()
    counts["shipping regions"] = _load_shipping()
    counts["stores"] = _load_stores()
    counts["home blocks"] = load_home()
    counts["search synonyms"] = load_search_words()
    return counts


# Articles: (category slug, name, name_en), then (title, summary, tags, body) with
# {code} fields naming the demo products they embed. The editor writes them; the
# admin (who has the publishing right) publishes them.
ARTICLE_CATEGORIES = (("picks", "好物推荐", "Picks"), ("living", "生活方式", "Living"))
DEMO_ARTICLES = (
    ("picks", "夏天的水果，挑这两样就够了", "海南贵妃芒和智利车厘子，怎么挑、怎么存、怎么吃。",
     ["水果", "夏天"],
     "芒果要挑**果皮紧致、蒂部微软**的，放在阴凉处两天就能吃。\n\n"
     "{hainan-mango}\n\n"
     "车厘子看果梗：**绿而有弹性**的最新鲜。买回来别洗，直接冷藏，吃之前再冲。\n\n"
     "{chile-cherries}\n\n"
     "## 小贴士\n\n- 芒果别进冰箱太久，会冻伤\n- 车厘子一次别买太多，三天内吃完\n"),
    ("picks", "每天一小把坚果，办公室的下午茶", "三种吃法，让坚果不再无聊。", ["零食", "办公室"],
     "下午三点最容易饿。与其吃甜点，不如抓一小把坚果。\n\n{daily-nuts}\n\n"
     "> 一天 25 克左右刚刚好。\n"),
    ("living", "厨房新手的第一口锅", "不粘锅怎么选、怎么养，一篇讲清楚。", ["厨房", "新手"],
     "第一口锅，推荐**不粘锅**：火候好掌握，煎蛋不粘。\n\n{nonstick-pan}\n\n"
     "用木铲或硅胶铲，别用钢丝球，涂层能用好几年。\n"),
)


ARTICLE_COVER_TITLES = ("Summer fruit", "Nuts at four", "A first pan")  # drawn on the covers


def _load_articles() -> int:
    from shop.articles import services as articles
    from shop.articles.models import Article, ArticleCategory

    if db.session.scalar(select(Article.id).limit(1)) is not None:
        return 0
    editor = db.session.scalar(select(User).where(User.email == "editor@example.com"))
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    categories = {}
    for position, (slug, name, name_en) in enumerate(ARTICLE_CATEGORIES):
        categories[slug] = db.session.scalar(select(ArticleCategory).where(ArticleCategory.slug == slug)) \
            or articles.save_category(None, name=name, name_en=name_en, slug=slug,
                                      position=position, active=True)
    db.session.flush()
    ids = dict(db.session.execute(select(Product.code, Product.id)
                                  .where(Product.code.like("demo-%"))).all())
    embeds = {code[len("demo-"):]: f"[[product:{pid}]]" for code, pid in ids.items()}
    created = 0
    for index, (category, title, summary, tags, body) in enumerate(DEMO_ARTICLES):
        try:
            body = body.format(**embeds)
        except KeyError:  # a catalogue without that product (tests load accounts only)
            continue
        article = articles.save_article(None, articles.ArticleData(
            title=title, summary=summary, body_md=body,
            category_id=categories[category].id, tags=tags, repromote_days=15,
            cover=save_pixels(_draw(ARTICLE_COVER_TITLES[index], "Good reads",
                                    ((253, 240, 225), (245, 200, 170), (196, 22, 28)), index, 0)),
        ), actor=editor)
        articles.change_status(article, "review", actor=editor)
        articles.change_status(article, "published", actor=admin)
        created += 1
    return created


DEMO_LEVELS = (("普通分销员", 1000, 500), ("金牌分销员", 1500, 600))


def _load_distribution() -> int:
    """Two distributor levels, and the demo shopper an approved distributor at the first,
    so the distributor centre has someone to show; the shop's default settings."""
    from shop.referrals import services as referrals

    shopper = db.session.scalar(select(User.id).where(User.email == "shopper@example.com"))
    if shopper is None or referrals.levels():
        return 0
    referrals.save_settings()  # the settings row, with the defaults
    levels = [referrals.save_level(None, name=name, level1_bp=l1, level2_bp=l2)
              for name, l1, l2 in DEMO_LEVELS]
    row = referrals.account(shopper)
    row.status, row.level_id = "approved", levels[0].id
    db.session.flush()
    return 1


# (name, growth needed, discount_bp, points_multiplier_bp, free_shipping)
DEMO_MEMBER_LEVELS = (("普通会员", 0, 0, 10_000, False), ("银卡会员", 500, 200, 10_000, False),
                      ("金卡会员", 2000, 500, 15_000, True), ("钻石会员", 10_000, 800, 20_000, True))


def _load_member_levels() -> int:
    """Four member levels, and 600 welcome growth for the demo shopper (银卡, on the way to
    金卡), so the Me page has a level and progress to show; a ledger row like any other,
    referenced so it happens once. A discount that puts demo SKUs below their floor is
    confirmed as a loss leader by the demo admin."""
    from shop.members import services as members
    from shop.members.models import GrowthEntry

    if members.levels():
        return 0
    for name, threshold, discount, multiplier, free in DEMO_MEMBER_LEVELS:
        members.save_level(None, name=name, threshold=threshold, discount_bp=discount,
                           points_multiplier_bp=multiplier, free_shipping=free,
                           loss_leader=True, actor_id=_demo_admin())
    shopper = db.session.scalar(select(User.id).where(User.email == "shopper@example.com"))
    done = db.session.scalar(select(GrowthEntry.id).where(GrowthEntry.user_id == shopper,
                                                          GrowthEntry.ref_type == "demo"))
    if shopper is not None and done is None:
        members.move(shopper, 600, reason="demo", ref_type="demo", ref_id="welcome")
    return len(DEMO_MEMBER_LEVELS)


# (product code, points, cash_minor, per-shopper limit): the mall's first items.
DEMO_MALL = (("demo-daily-nuts", 800, 0, 2), ("demo-hainan-mango", 300, 1990, 1),
             ("demo-nonstick-pan", 2000, 4900, 1))


def _demo_admin() -> int | None:
    """The demo admin, who confirms the demo's loss leaders (shop.referrals.margin)."""
    return db.session.scalar(select(User.id).where(User.email == "admin@example.com"))


def _load_points() -> int:
    """Sign-in streak bonuses (day 3: +10, day 7: +30), mall items for points and for
    points plus cash with 20 of each in stock (through the mall ledger), and 1,000 welcome
    points for the demo shopper, referenced so each happens once."""
    from shop.points import services as points
    from shop.points.models import PointsEntry

    if points.mall_items(active_only=False):
        return 0
    points.save_settings(bonuses={3: 10, 7: 30})
    created = 0
    for code, price, cash, limit in DEMO_MALL:
        sku = db.session.scalar(select(Sku).join(Product).where(Product.code == code)
                                .order_by(Sku.id).limit(1))
        if sku is None:  # a catalogue without that product (tests load accounts only)
            continue
        # points-mall prices are below cost on purpose: confirmed as loss leaders (margin.py)
        item = points.save_mall_item(None, sku_id=sku.id, points_price=price, cash_minor=cash,
                                     per_user_limit=limit, active=True, loss_leader=True,
                                     actor_id=_demo_admin())
        points.move_mall_stock(item.id, 20, reason="demo", ref_type="demo", ref_id="initial")
        created += 1
    shopper = db.session.scalar(select(User.id).where(User.email == "shopper@example.com"))
    done = db.session.scalar(select(PointsEntry.id).where(PointsEntry.user_id == shopper,
                                                          PointsEntry.ref_type == "demo"))
    if shopper is not None and done is None:
        points.move(shopper, 1_000, reason="adjustment", ref_type="demo", ref_id="welcome",
                    note="欢迎积分")
    return created


# Group buys: (product code, people, hours, group price and leader's price as a share of
# the SKU's price in basis points, auto-complete share or None).
DEMO_GROUP_BUYS = (("demo-hainan-mango", 2, 24, 8000, 7000, None),
                   ("demo-daily-nuts", 3, 24, 7500, None, 6000))


def _load_group_buys() -> int:
    """Two running campaigns (30 days from now, 100 units each) and, in the first, a group
    the demo friend has opened and paid from the wallet, for the demo shopper to join:
    the last seat completes it. Made through the services, like any campaign and group."""
    from datetime import timedelta

    from shop.groups import services as groups
    from shop.groups.models import GroupCampaign
    from shop.orders import addresses
    from shop.orders import services as orders

    if db.session.scalar(select(GroupCampaign.id).limit(1)) is not None:
        return 0
    admin = db.session.scalar(select(User.id).where(User.email == "admin@example.com"))
    now = utcnow().replace(microsecond=0)
    made = []
    for code, size, hours, price_bp, leader_bp, auto_bp in DEMO_GROUP_BUYS:
        product = db.session.scalar(select(Product).where(Product.code == code))
        if product is None:  # a catalogue without that product (tests load accounts only)
            continue
        prices = {sku.id: (sku.price_minor * price_bp // 10_000,
                           sku.price_minor * leader_bp // 10_000 if leader_bp else None)
                  for sku in product.skus if sku.active}
        made.append(groups.save_campaign(None, product=product, prices=prices, actor_id=admin,
                                         loss_leader=True, values={
            "group_size": size, "hours": hours, "starts_at": now, "ends_at": now + timedelta(days=30),
            "stock_cap": 100, "per_user_limit": None, "new_customers_only": False,
            "auto_complete_bp": auto_bp, "active": True}))
    friend = db.session.scalar(select(User.id).where(User.email == "friend@example.com"))
    if made and friend is not None:
        campaign = made[0]
        # 上海市上海市徐汇区 (division codes: shop.divisions), the friend's default address
        address = addresses.save(friend, name="陈晨", phone="13900139000", province="31",
                                 city="3101", district="310104", detail="漕溪北路 88 号",
                                 postcode="200030")
        order = groups.open_group(friend, campaign.id, campaign.skus[0].sku_id, address,
                                  "demo-group-leader")
        wallet.move(friend, order.total_minor, reason="Demo credit", ref_type="demo",
                    ref_id="group-leader")
        orders.pay_with_wallet(order, friend)
    return len(made)


# Bargains: (product code, floor as a share of the SKU's price in basis points, helpers).
DEMO_BARGAINS = (("demo-gan-charger", 5000, 5), ("demo-longjing", 6000, 3))


def _load_bargains() -> int:
    """Two running campaigns (30 days; each bargain runs 24 hours) from the first SKU's
    price down to the floor, made through the service."""
    from datetime import timedelta

    from shop.bargains import services as bargains
    from shop.bargains.models import BargainCampaign
    from shop.db import utcnow

    if db.session.scalar(select(BargainCampaign.id).limit(1)) is not None:
        return 0
    now, made = utcnow().replace(microsecond=0), 0
    for code, floor_bp, helpers in DEMO_BARGAINS:
        sku = db.session.scalar(select(Sku).join(Product).where(Product.code == code)
                                .order_by(Sku.id).limit(1))
        if sku is None:  # a catalogue without that product (tests load accounts only)
            continue
        bargains.save_campaign(None, sku_code=sku.code, start_price_minor=sku.price_minor,
                               floor_price_minor=sku.price_minor * floor_bp // 10_000,
                               helpers_needed=helpers, hours=24, starts_at=now,
                               ends_at=now + timedelta(days=30), active=True,
                               loss_leader=True, actor_id=_demo_admin())
        made += 1
    return made


def _load_promotions() -> int:
    """Coupons (a newcomer gift, 满99减15 in the claim centre, given to the demo shopper
    too, and 10% off fruit), a full reduction (满199减30, 满299减50 with free shipping), buy
    two get one on the daily nuts, 15% off the cherries for a week, and a flash session
    on now (the pan at half price, 20 units, 1 each) with one to come tomorrow."""
    from datetime import timedelta

    from flask import current_app

    from shop.db import utcnow
    from shop.promotions import services as promotions
    from shop.promotions.backoffice import save_coupon
    from shop.promotions.models import (Coupon, FlashItem, FlashSession, Promotion,
                                        PromotionTier, TimedPrice)

    if db.session.scalar(select(Coupon.id).limit(1)) is not None:
        return 0
    now = utcnow().replace(microsecond=0)
    currency = current_app.config["SHOP_CURRENCY"]

    def first_sku(code):
        return db.session.scalar(select(Sku).join(Product).where(Product.code == code)
                                 .order_by(Sku.id).limit(1))

    fruit = db.session.scalar(select(Category.id).where(Category.slug == "fresh-fruit"))
    # through the backoffice's service, so a limited quantity opens the coupon's ledger
    coupons = [save_coupon(None, values=values, total_quantity=total, currency=currency,
                           actor_id=None) for values, total in (
        (dict(name="新人无门槛 ¥10", kind="amount", amount_minor=1000, valid_from=now,
              valid_days=7, claimable=False, newcomer=True), None),
        (dict(name="满99减15", kind="amount", amount_minor=1500, min_spend_minor=9900,
              valid_from=now, valid_until=now + timedelta(days=30)), 500),
        (dict(name="水果9折券", kind="percent", percent_bp=1000, cap_minor=2000,
              scope="categories", scope_ids=[fruit] if fruit else [], valid_from=now,
              valid_days=14), 200),
    )]
    reduction = Promotion(kind="full_reduction", name="满199减30，满299减50包邮", currency=currency,
                          starts_at=now, ends_at=now + timedelta(days=30), basis="amount")
    reduction.tiers = [PromotionTier(threshold=19900, off_minor=3000),
                       PromotionTier(threshold=29900, off_minor=5000, free_shipping=True)]
    db.session.add(reduction)
    made = 4
    nuts, cherries, pan = (first_sku("demo-daily-nuts"), first_sku("demo-chile-cherries"),
                           first_sku("demo-nonstick-pan"))
    if nuts is not None:
        db.session.add(Promotion(kind="buy_get", name="坚果买二送一", currency=currency,
                                 starts_at=now, ends_at=now + timedelta(days=30), sku_id=nuts.id,
                                 buy_n=2, get_m=1))
        made += 1
    if cherries is not None:
        db.session.add(TimedPrice(name="车厘子限时85折", product_id=cherries.product_id,
                                  kind="percent", percent_bp=1500, starts_at=now,
                                  ends_at=now + timedelta(days=7)))
        made += 1
    admin = db.session.scalar(select(User.id).where(User.email == "admin@example.com"))
    if pan is not None:
        for name, starts in (("今日秒杀", now), ("明日秒杀", now + timedelta(days=1))):
            session = FlashSession(name=name, starts_at=starts, ends_at=starts + timedelta(hours=12))
            db.session.add(session)
            db.session.flush()
            item = FlashItem(session_id=session.id, sku_id=pan.id, currency=currency,
                             price_minor=pan.price_minor // 2, allotted=0, stock_left=0,
                             per_user_limit=1)
            db.session.add(item)
            db.session.flush()
            promotions.set_aside(item, 20, actor_id=admin)
            made += 1
    db.session.flush()
    shopper = db.session.scalar(select(User.id).where(User.email == "shopper@example.com"))
    if shopper is not None:
        promotions.grant(coupons[1].id, [shopper], actor_id=admin)
    return made


def _load_shipping() -> int:
    """The default shipping template (the migration makes it from the old shop settings;
    the built-in 10.00, free from 99.00 if there is none yet) gets a remote-regions row:
    新疆 and 西藏 pay 20.00, never free. Nothing if the default has regions already."""
    from shop.shipping import services as shipping

    default = shipping.default_template()
    if default.regions:
        return 0
    shipping.save_template(
        default if default.id is not None else None, name=default.name,
        fee_minor=default.fee_minor, free_from_minor=default.free_from_minor, is_default=True,
        regions=[{"provinces": ["65", "54"], "fee_minor": 2000, "free_from_minor": None}])
    return 1


# Pickup stores: (name, city, address, phone, hours, latitude, longitude) in microdegrees.
DEMO_STORES = (
    ("徐家汇店", "上海市", "徐汇区漕溪北路 88 号", "021-64000001", "每天 9:00–21:00", 31193000, 121437000),
    ("静安寺店", "上海市", "静安区南京西路 1788 号", "021-62000002", "每天 10:00–22:00", 31223800, 121445900),
    ("西湖店", "杭州市", "西湖区文三路 90 号", "0571-88000003", "周一至周六 9:00–20:00", 30278000, 120130000),
)
# Products that may be picked up at a store: fresh food, and the group buys' products.
DEMO_PICKUP = ("demo-hainan-mango", "demo-chile-cherries", "demo-daily-nuts", "demo-longjing")


def _load_stores() -> int:
    """Three stores (two in Shanghai, one in Hangzhou), the demo store staff working at
    both Shanghai stores, and pickup on the fresh food; through the services."""
    from shop.stores import services as stores
    from shop.stores.models import Store

    if db.session.scalar(select(Store.id).limit(1)) is not None:
        return 0
    made = [stores.save_store(None, name=name, city=city, address=address, phone=phone,
                              hours=hours, map_url="", latitude_e6=lat, longitude_e6=lng,
                              active=True)
            for name, city, address, phone, hours, lat, lng in DEMO_STORES]
    if db.session.scalar(select(User.id).where(User.email == "staff@example.com")) is not None:
        for store in made[:2]:
            stores.add_staff(store, db.session.scalar(select(User).where(User.email == "staff@example.com")))
    for product in db.session.scalars(select(Product).where(Product.code.in_(DEMO_PICKUP))):
        product.pickup_enabled = True
    db.session.flush()
    return len(made)


def _load_accounts() -> int:
    emails = set(db.session.scalars(select(User.email)))
    created = 0
    for email, password, nickname, role in DEMO_ACCOUNTS:
        if email not in emails:
            # example.com is reserved: no one else can own these addresses, so the demo
            # counts them as proven (an email link then leaves the demo password alone).
            register_user(email, password, nickname, role).email_verified_at = utcnow()
            created += 1
    db.session.flush()
    return created


DEMO_PACKAGES = ((10000, 10500), (50000, 55000), (100000, 112000))  # pay ¥500, get ¥550...


def _load_packages() -> int:
    if wallet.packages(active_only=False):
        return 0
    for pay, credit in DEMO_PACKAGES:
        wallet.add_package(pay, credit)
    return len(DEMO_PACKAGES)


def _load_wallet() -> int:
    """The demo shopper starts with ¥500 of stored value, so a purchase works end to end
    without a card; a ledger row like any other, referenced so it happens once."""
    shopper = db.session.scalar(select(User.id).where(User.email == "shopper@example.com"))
    done = db.session.scalar(select(WalletEntry.id).where(WalletEntry.user_id == shopper,
                                                          WalletEntry.ref_type == "demo"))
    if shopper is None or done is not None:
        return 0
    wallet.move(shopper, 50000, reason="Demo credit", ref_type="demo", ref_id="welcome")
    return 1


def _category(counts: dict[str, int], slug: str, name: str, name_en: str,
              parent_id: int | None, position: int) -> Category:
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        category = save_category(None, name=name, name_en=name_en, slug=slug,
                                 parent_id=parent_id, position=position, active=True)
        counts["categories"] += 1
    return category


def _parse_skus(spec: Spec) -> list[tuple[list[str], int]]:
    skus = []
    for item in spec.skus.split(";"):
        values, price = item.rsplit("=", 1)
        skus.append((values.split("/"), int(price)))
    return skus


def _plan(spec: Spec, rng: random.Random) -> dict:
    """The varying numbers for one product: stock per SKU, cost, sales, image count. The
    product's cost is its cheapest SKU's; a product in sizes (规格: 1斤, 2斤, 5斤 boxes...)
    gives every dearer SKU a cost of its own at the same share of its price, so the
    below-cost guard judges a price on the 5斤 box against the 5斤 box's cost."""
    skus = _parse_skus(spec)
    stocks = [0 if rng.random() < 0.06 else rng.randint(12, 500) for _ in skus]
    if spec.slug in SOLD_OUT:
        stocks = [0] * len(skus)
    share, lowest = rng.randint(4500, 7000), min(price for _, price in skus)  # basis points
    cost = lowest * share // 10000
    sized = "规格" in spec.options.split("/")
    sku_costs = [price * share // 10000 if sized and price != lowest else None for _, price in skus]
    tier = rng.random()
    if spec.slug in FEATURED:
        sales = rng.randint(600, 2500)
    elif tier < 0.45:
        sales = rng.randint(0, 99)
    elif tier < 0.9:
        sales = rng.randint(100, 999)
    else:
        sales = rng.randint(1000, 2500)
    if spec.slug in DRAFT:
        sales = 0
    return {"skus": skus, "stocks": stocks, "cost": cost, "sku_costs": sku_costs, "sales": sales,
            "images": 2 if rng.random() < 0.5 else 1}


def _create_product(spec: Spec, category_id: int, top: dict, plan: dict) -> Product:
    note, note_en = top["note"]
    option_names = spec.options.split("/")
    texts = set(option_names) | {v for values, _ in plan["skus"] for v in values}
    translations = {"en": {
        "title": spec.title_en, "subtitle": spec.subtitle_en,
        "selling_points": spec.points_en.replace("|", "\n"),
        "description": f"{spec.intro_en}\n\n{note_en}",
        "options": {text: OPTION_EN[text] for text in sorted(texts) if text in OPTION_EN},
    }}
    status = "draft" if spec.slug in DRAFT else "off_sale" if spec.slug in OFF_SALE else "on_sale"
    data = ProductData(
        title=spec.title, subtitle=spec.subtitle, selling_points=spec.points.replace("|", "\n"),
        description=f"{spec.intro}\n\n{note}", category_id=category_id,
        cost_price_minor=plan["cost"], status=status, featured=spec.slug in FEATURED,
        option_names=option_names, translations=translations,
    )
    rows = [SkuRow(id=None, code=f"demo-{spec.slug}-{n}", option_values=values, price_minor=price,
                   stock=stock, stock_seen=0, active=True, cost_price_minor=sku_cost)
            for n, ((values, price), stock, sku_cost)
            in enumerate(zip(plan["skus"], plan["stocks"], plan["sku_costs"]), 1)]
    product = save_product(None, data, rows, currency=CURRENCY, actor_id=None)
    product.code = f"demo-{spec.slug}"
    product.sales_count = plan["sales"]
    db.session.flush()
    return product


# --- images ----------------------------------------------------------------------------

SIZE = 960


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # Latin only: never draw Chinese text


def _wrap(text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines[:4]


def _draw(title_en: str, category_en: str, colours: tuple, index: int, variant: int) -> Image.Image:
    """A square product picture: gradient (cover) or flat background, a card, a simple
    shape in the category's accent colour and the English title."""
    top, bottom, accent = colours
    if variant == 0:
        mask = Image.linear_gradient("L").resize((SIZE, SIZE))
        img = Image.composite(Image.new("RGB", (SIZE, SIZE), bottom), Image.new("RGB", (SIZE, SIZE), top), mask)
    else:
        img = Image.new("RGB", (SIZE, SIZE), top)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((96, 96, SIZE - 96, SIZE - 96), radius=64, fill=(255, 255, 255))
    cx, cy, r = SIZE // 2, 380, 170 if variant == 0 else 130
    shape = (index + variant) % 3
    if shape == 0:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=accent)
    elif shape == 1:
        draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=48, fill=accent)
    else:
        draw.ellipse((cx - r - 60, cy - r, cx + r - 60, cy + r), fill=bottom)
        draw.ellipse((cx - r + 60, cy - r, cx + r + 60, cy + r), fill=accent)
    draw.text((cx, 150), category_en.upper(), font=_font(28), fill=accent, anchor="ma")
    y = 600
    for line in _wrap(title_en, _font(48), SIZE - 280):
        draw.text((cx, y), line, font=_font(48), fill=(48, 48, 48), anchor="ma")
        y += 60
    return img
