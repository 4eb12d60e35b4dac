"""One tap from a link (shop.accounts.sheet): a visitor who is not signed in taps Join,
Help cut, Claim or Buy now, signs in (or up) by phone in the sheet (htmx) or on the plain
page (without JavaScript), and lands back on the same action with what they chose and
the referral binding of the link they came by. New accounts have an avatar drawn for
them. (The browser run of the whole flow: tests/e2e/test_one_tap_browser.py.)"""

import re
from pathlib import Path

from sqlalchemy import func, select

from shop.accounts.models import User
from shop.bargains.models import BargainHelp
from shop.db import db
from shop.groups.models import GroupMember
from shop.promotions.models import UserCoupon
from shop.referrals.models import Binding
from tests.conftest import ADDRESS
from tests.factories import (BargainFactory, CouponFactory, GroupCampaignFactory,
                             GroupCampaignSkuFactory, UserFactory, product_with_skus)
from tests.groups.helpers import open_paid_group

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true", **EN}
NUMBER = "13900139000"


def _code(app) -> str:
    """The code of the latest text message in the outbox."""
    latest = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*-sms-*.txt"))[-1]
    return re.search(r"\b(\d{6})\b", latest.read_text(encoding="utf-8")).group(1)


def _count(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def _phone_sign_in(app, client, next_url: str, headers=EN, number=NUMBER):
    """Ask for a code for the number and enter it, as the sheet (headers=HTMX) or the
    plain page does: the answer to the code."""
    sent = client.post_form("/signin/phone", {"phone": number, "next": next_url}, headers=headers)
    assert sent.status_code == 200 and 'name="code"' in sent.get_data(as_text=True)
    return client.post_form("/signin/phone/code", {"phone": "+86" + number, "code": _code(app),
                                                   "next": next_url}, headers=headers)


def _group(app, client):
    """A leader's open group of 2 on a product of two options (the second one dearer), and
    the visitor's client having opened the leader's share link: (leader, group, skus)."""
    product, skus = product_with_skus(skus=(("红", 1990, 10), ("蓝", 2590, 10)))
    campaign = GroupCampaignFactory(product_id=product.id, group_size=2)
    for sku in skus:
        GroupCampaignSkuFactory(campaign_id=campaign.id, sku_id=sku.id, price_minor=990)
    _, leader, group_id = open_paid_group(app, campaign.id, skus[0].id)
    with app.app_context():
        code = db.session.get(User, leader.id).referral_code
    opened = client.get(f"/s/{code}-g{group_id}", headers=EN)
    assert opened.status_code == 303 and opened.headers["Location"].startswith(f"/groups/{group_id}?shared=")
    return leader, group_id, skus


def test_without_javascript_join_goes_to_the_phone_page_and_back_to_the_join_form(app, client):
    leader, group_id, (_red, blue) = _group(app, client)
    page = client.get(f"/groups/{group_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="guest-join"' in page and 'name="detail"' not in page  # no address yet

    tapped = client.post_form(f"/groups/{group_id}/join", {"sku_id": blue.id}, headers=EN)
    assert tapped.status_code == 303
    assert tapped.headers["Location"] == f"/signin/phone?next=/groups/{group_id}%23join"
    plain = client.get(tapped.headers["Location"], headers=EN).get_data(as_text=True)
    assert "<html" in plain and f'value="/groups/{group_id}#join"' in plain
    assert _count(app, GroupMember, group_id=group_id) == 1  # the leader only: nothing joined

    signed = _phone_sign_in(app, client, f"/groups/{group_id}#join")
    assert signed.status_code == 302 and signed.headers["Location"] == f"/groups/{group_id}#join"
    back = client.get(f"/groups/{group_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="join-group"' in back and 'name="detail"' in back  # the address step
    assert re.search(rf'<input checked[^>]*value="{blue.id}"', back)  # the option they picked
    assert _count(app, GroupMember, group_id=group_id) == 1  # the GET joined nobody

    with app.app_context():
        visitor = db.session.scalar(select(User).where(User.signin_phone == "+86" + NUMBER))
        binding = db.session.get(Binding, visitor.id)
        assert (binding.referrer_id, binding.via) == (leader.id, "registration")
        token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', back).group(1)
    joined = client.post_form(f"/groups/{group_id}/join", dict(ADDRESS, sku_id=blue.id, token=token),
                              headers=EN)
    assert joined.status_code == 303 and "/orders/" in joined.headers["Location"]
    assert _count(app, GroupMember, group_id=group_id) == 2


def test_with_htmx_join_opens_the_sheet_in_place_and_the_code_sends_the_visitor_back(app, client):
    _leader, group_id, (red, _blue) = _group(app, client)
    tapped = client.post_form(f"/groups/{group_id}/join", {"sku_id": red.id}, headers=HTMX)
    assert tapped.status_code == 200
    assert (tapped.headers["HX-Retarget"], tapped.headers["HX-Reswap"]) == ("body", "beforeend")
    assert "HX-Request" in tapped.headers["Vary"]
    sheet = tapped.get_data(as_text=True)
    assert sheet.lstrip().startswith("<dialog") and "<html" not in sheet
    assert 'aria-labelledby="signin-sheet-title"' in sheet and "Sign in to join" in sheet
    assert f'value="/groups/{group_id}#join"' in sheet and 'name="csrf_token"' in sheet

    sent = client.post_form("/signin/phone", {"phone": NUMBER, "next": f"/groups/{group_id}#join"},
                            headers=HTMX).get_data(as_text=True)
    assert sent.lstrip().startswith('<div id="phone-forms">') and 'hx-post="/signin/phone/code"' in sent
    signed = client.post_form("/signin/phone/code", {"phone": "+86" + NUMBER, "code": _code(app),
                                                     "next": f"/groups/{group_id}#join"}, headers=HTMX)
    assert signed.headers["HX-Redirect"] == f"/groups/{group_id}#join"


def test_a_wrong_code_in_the_sheet_comes_back_in_the_sheet(app, client):
    sent = client.post_form("/signin/phone", {"phone": NUMBER, "next": "/coupons"}, headers=HTMX)
    assert sent.status_code == 200
    code = _code(app)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post_form("/signin/phone/code", {"phone": "+86" + NUMBER, "code": wrong,
                                                      "next": "/coupons"}, headers=HTMX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "HX-Redirect" not in refused.headers
    assert html.lstrip().startswith('<div id="phone-forms">') and "The code is wrong" in html
    assert _count(app, User) == 0


def test_an_option_planted_in_the_intent_that_the_group_does_not_offer_is_ignored(app, client):
    _leader, group_id, (red, _blue) = _group(app, client)
    _other, (foreign, _x) = product_with_skus()
    client.post_form(f"/groups/{group_id}/join", {"sku_id": foreign.id}, headers=EN)
    _phone_sign_in(app, client, f"/groups/{group_id}#join")
    back = client.get(f"/groups/{group_id}", headers=EN).get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{red.id}"', back)  # the first, as always
    assert f'value="{foreign.id}"' not in back


def test_help_cut_lands_back_on_the_bargain_one_tap_away(app, client):
    bargain = BargainFactory()
    tapped = client.post_form(f"/bargains/{bargain.id}/cut", headers=HTMX)
    assert tapped.status_code == 200 and "Sign in to help cut the price" in tapped.get_data(as_text=True)
    assert _count(app, BargainHelp) == 0
    signed = _phone_sign_in(app, client, f"/bargains/{bargain.id}#bargain-help")
    assert signed.headers["Location"] == f"/bargains/{bargain.id}#bargain-help"
    page = client.get(f"/bargains/{bargain.id}", headers=EN).get_data(as_text=True)
    assert 'id="bargain-help"' in page and 'data-testid="bargain-cut"' in page
    assert client.post_form(f"/bargains/{bargain.id}/cut", headers=EN).status_code == 303
    assert _count(app, BargainHelp, bargain_id=bargain.id) == 1


def test_claim_lands_back_on_the_coupon_one_tap_away(app, client):
    coupon = CouponFactory(total_quantity=5)
    page = client.get("/coupons", headers=EN).get_data(as_text=True)
    assert f'action="/coupons/{coupon.id}/claim"' in page  # the button itself, not a link away
    tapped = client.post_form(f"/coupons/{coupon.id}/claim", headers=EN)
    assert tapped.headers["Location"] == f"/signin/phone?next=/coupons%23coupon-{coupon.id}"
    assert _count(app, UserCoupon) == 0
    signed = _phone_sign_in(app, client, f"/coupons#coupon-{coupon.id}")
    assert signed.headers["Location"] == f"/coupons#coupon-{coupon.id}"
    assert client.post_form(f"/coupons/{coupon.id}/claim", headers=EN).status_code == 303
    assert _count(app, UserCoupon, coupon_id=coupon.id) == 1


def test_back_to_an_anchor_of_the_same_page_reloads_it(app, client):
    """From the sheet on /coupons to /coupons#coupon-1: moving there would only scroll, so
    htmx is told to load the page again (now signed in); to another page it just goes."""
    here = {"HX-Current-URL": "http://localhost/coupons", **HTMX}
    signed = _phone_sign_in(app, client, "/coupons#coupon-1", headers=here)
    assert signed.headers["HX-Redirect"] == "/coupons#coupon-1" and signed.headers["HX-Refresh"] == "true"
    client.post_form("/signout")
    elsewhere = {"HX-Current-URL": "http://localhost/groups/1?shared=X", **HTMX}
    signed = _phone_sign_in(app, client, "/groups/1#join", headers=elsewhere, number="13700137000")
    assert signed.headers["HX-Redirect"] == "/groups/1#join" and "HX-Refresh" not in signed.headers


def test_a_sign_in_link_opens_the_sheet_with_htmx_and_the_page_without(app, client):
    product, (sku, _blue) = product_with_skus()
    campaign = GroupCampaignFactory(product_id=product.id, group_size=2)
    GroupCampaignSkuFactory(campaign_id=campaign.id, sku_id=sku.id, price_minor=990)
    page = client.get(f"/group-buys/{campaign.id}", headers=EN).get_data(as_text=True)
    href = f"/signin/phone?next=/group-buys/{campaign.id}"
    assert f'href="{href}" hx-get="{href}"' in page and "Sign in to start a group" in page
    opened = client.get(href, headers=HTMX)
    assert opened.headers["HX-Retarget"] == "body" and "HX-Request" in opened.headers["Vary"]
    sheet = opened.get_data(as_text=True)
    assert sheet.lstrip().startswith("<dialog") and f'value="/group-buys/{campaign.id}"' in sheet
    plain = client.get(href, headers=EN)
    assert "<html" in plain.get_data(as_text=True) and "HX-Retarget" not in plain.headers


def test_buy_now_keeps_the_item_and_lands_on_the_checkout(app, client):
    product, (sku, _blue) = product_with_skus()
    assert 'data-testid="buy-now"' in client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    tapped = client.post_form("/cart/add", {"sku_id": sku.id, "quantity": 2, "buy": "y"}, headers=HTMX)
    assert tapped.status_code == 200 and "Sign in to buy" in tapped.get_data(as_text=True)
    signed = _phone_sign_in(app, client, "/checkout?now=1", headers=HTMX)
    assert signed.headers["HX-Redirect"] == "/checkout?now=1"
    checkout = client.get("/checkout?now=1", headers=EN)
    assert checkout.status_code == 200 and f"Product {product.code}" in checkout.get_data(as_text=True)
    assert "× 2" in checkout.get_data(as_text=True)


def test_a_new_account_has_a_drawn_avatar_and_changes_it_and_its_nickname(app, client, png_bytes):
    _phone_sign_in(app, client, "/me")
    me = client.get("/me", headers=EN).get_data(as_text=True)
    assert 'data-testid="drawn-avatar"' in me and re.search(r"用户\d{4}", me)  # the shop's language
    assert 'data-testid="drawn-avatar"' in client.get("/me/profile", headers=EN).get_data(as_text=True)
    saved = client.post_form("/me/profile", {"nickname": "小明", "phone": "",
                                             "avatar": (png_bytes(), "me.png")},
                             content_type="multipart/form-data", headers=EN)
    assert saved.status_code == 302
    me = client.get("/me", headers=EN).get_data(as_text=True)
    assert "小明" in me and 'data-testid="drawn-avatar"' not in me and '<img class="avatar"' in me


def test_a_member_without_a_picture_shows_on_the_group_page_with_the_drawn_avatar(app, client):
    leader = UserFactory(nickname="阿明")
    product, (sku, _blue) = product_with_skus()
    campaign = GroupCampaignFactory(product_id=product.id, group_size=2)
    GroupCampaignSkuFactory(campaign_id=campaign.id, sku_id=sku.id, price_minor=990)
    _, _, group_id = open_paid_group(app, campaign.id, sku.id, client=_signed(app, leader), user=leader)
    page = client.get(f"/groups/{group_id}", headers=EN).get_data(as_text=True)
    assert re.search(r'<svg class="seat-avatar [^"]*"[^>]*role="img" aria-label="阿明"', page)


def _signed(app, user):
    client = app.test_client()
    client.signin(user.email)
    return client
