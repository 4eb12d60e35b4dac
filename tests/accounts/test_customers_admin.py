"""Customers and staff in the backoffice (shop.customers, blueprint accounts_admin): the
list (search, filters, pages, a fixed number of queries), one customer's page, tags,
disabling an account, roles and their rules, who may do any of it, and two admins
demoting each other at once on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.analytics.models import Acquisition
from shop.audit.models import AuditEntry
from shop.customers import services
from shop.customers.models import CustomerTag
from shop.db import db
from shop.members.models import Member
from shop.money import format_minor
from shop.orders.models import Order, OrderLine
from shop.points import services as points
from shop.promotions.models import UserCoupon
from shop.stores.models import StoreStaff
from shop.wallet import services as wallet
from tests.conftest import counted_queries, signed_in
from tests.factories import (AcquisitionFactory, AuditEntryFactory, BargainFactory,
                             BindingFactory, CommissionEntryFactory, CustomerTagFactory,
                             DistributorFactory, GroupCampaignFactory, GroupFactory,
                             GroupMemberFactory, MemberFactory,
                             MemberLevelFactory, StoreFactory, StoreStaffFactory,
                             UserCouponFactory, UserFactory, product_with_skus)
from tests.payments.helpers import bought, saved_address

EN = {"Accept-Language": "en"}
LIST = "/admin/customers"


def _page(user_id: int) -> str:
    return f"/admin/customers/{user_id}"


def _rows(html: str) -> list[int]:
    """The user ids of the list's rows, in order."""
    return [int(i) for i in re.findall(r'data-testid="customer" data-user-id="(\d+)"', html)]


def _state(app, user_id: int) -> dict:
    """What the backoffice can change about an account, read afresh."""
    with app.app_context():
        user = db.session.get(User, user_id)
        return {"role": user.role, "can_publish": user.can_publish, "active": user.active,
                "session_version": user.session_version,
                "stores": sorted(db.session.scalars(select(StoreStaff.store_id)
                                                    .where(StoreStaff.user_id == user_id))),
                "tags": sorted(db.session.scalars(select(CustomerTag.name)
                                                  .where(CustomerTag.user_id == user_id)))}


def _paid_order(app, user_id: int, price: int = 12000) -> int:
    """The user buys a new product at `price` and pays from the wallet: the order id."""
    _product, (sku, _other) = product_with_skus(skus=(("红", price, 5), ("蓝", price, 0)))
    with app.app_context():
        saved_address(user_id)
        order = bought(user_id, sku.id, f"buy-{user_id}-{sku.id}")
        db.session.commit()
        return order.id


def _customer(app, *, referrer=None, tag=None, source="poster", level=None, order=True,
              wallet_minor=500, **user):
    """A customer with the facts the list shows: a paid order, a wallet, where they came
    from, who referred them, a member level and a tag."""
    person = UserFactory(**user)
    if order:
        _paid_order(app, person.id)
    if wallet_minor:
        with app.app_context():
            wallet.move(person.id, wallet_minor, reason="t", ref_type="test", ref_id=f"w{person.id}")
            db.session.commit()
    with app.app_context():  # paying may have made these rows already
        found = db.session.get(Acquisition, person.id)
        member = db.session.get(Member, person.id)
        if found is not None:
            found.source = source
        if member is not None and level is not None:
            member.level_id = level.id
        db.session.commit()
    if found is None:
        AcquisitionFactory(user_id=person.id, source=source)
    if referrer is not None:
        BindingFactory(user_id=person.id, referrer_id=referrer.id)
    if level is not None and member is None:
        MemberFactory(user_id=person.id, level_id=level.id)
    if tag:
        CustomerTagFactory(user_id=person.id, name=tag)
    return person


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_each_customer_with_what_they_bought_hold_and_came_through(app, admin_client):
    referrer = UserFactory(nickname="推荐人甲")
    level = MemberLevelFactory(name="金卡")
    person = _customer(app, referrer=referrer, tag="VIP", level=level, nickname="小王",
                       phone="13800138001", wallet_minor=700)
    with app.app_context():
        points.move(person.id, 40, reason="adjustment", ref_type="test", ref_id="p1")
        db.session.commit()
        spend = db.session.scalar(select(func.sum(Order.total_minor))
                                  .where(Order.user_id == person.id))
        balance = points.balance(person.id)  # the 40 and what the order earned
    assert balance > 40
    unpaid = UserFactory(nickname="没买过")
    html = admin_client.get(LIST, headers=EN).get_data(as_text=True)
    row = html[html.index(f'data-user-id="{person.id}"'):]
    row = row[:row.index("</tr>")]
    assert "小王" in row and "13800138001" in row and person.email in row
    assert "金卡" in row and "Poster QR code" in row and "Shopper" in row
    assert f">{balance}<" in row  # points
    with app.test_request_context(headers=EN):
        assert format_minor(700, "CNY", "en") in row  # the wallet
        assert f'data-testid="spend">{format_minor(spend, "CNY", "en")}<' in row
    assert f'href="/admin/customers/{referrer.id}">推荐人甲</a>' in row
    assert 'href="/admin/customers?tag=VIP"' in row
    assert ">1<" in row  # one order
    assert set(_rows(html)) >= {person.id, unpaid.id, referrer.id}
    assert _rows(html) == sorted(_rows(html), reverse=True)  # newest first


def test_search_finds_by_name_phone_or_email_and_filters_by_role_and_tag(app, admin_client):
    wang = UserFactory(nickname="王小明", phone="13911112222", email="wang@example.com")
    li = UserFactory(nickname="李雷", phone="13733334444", email="lilei@shop.test")
    staff = UserFactory(role="staff", nickname="店员")
    editor = UserFactory(role="editor", nickname="编辑")
    CustomerTagFactory(user_id=li.id, name="批发")
    assert _rows(admin_client.get(LIST, query_string={"q": "小明"}).get_data(as_text=True)) == [wang.id]
    assert _rows(admin_client.get(LIST, query_string={"q": "3333"}).get_data(as_text=True)) == [li.id]
    assert _rows(admin_client.get(LIST, query_string={"q": "WANG@EX"}).get_data(as_text=True)) == [wang.id]
    assert _rows(admin_client.get(LIST, query_string={"q": "100%"}).get_data(as_text=True)) == []
    assert _rows(admin_client.get(LIST, query_string={"role": "staff"}).get_data(as_text=True)) == [staff.id]
    assert _rows(admin_client.get(LIST, query_string={"role": "editor"}).get_data(as_text=True)) == [editor.id]
    assert _rows(admin_client.get(LIST, query_string={"tag": "批发"}).get_data(as_text=True)) == [li.id]
    assert _rows(admin_client.get(LIST, query_string={"tag": "批发", "q": "王"}).get_data(as_text=True)) == []
    # htmx asks for the results block alone
    part = admin_client.get(LIST, query_string={"q": "李"}, headers={"HX-Request": "true"})
    assert _rows(part.get_data(as_text=True)) == [li.id] and "<form" not in part.get_data(as_text=True)
    # a role that is none: a 400 with the reason, no rows
    bad = admin_client.get(LIST, query_string={"role": "owner"}, headers=EN)
    assert bad.status_code == 400 and 'data-testid="filter-errors"' in bad.get_data(as_text=True)
    assert _rows(bad.get_data(as_text=True)) == []


def test_the_list_has_pages_of_thirty_with_links(app, admin_client):
    ids = sorted(UserFactory().id for _ in range(62))  # and the admin: 63 accounts, 3 pages
    first = admin_client.get(LIST, headers=EN).get_data(as_text=True)
    assert len(_rows(first)) == services.PER_PAGE == 30
    assert 'data-testid="pages"' in first and 'href="/admin/customers?page=3"' in first
    third = admin_client.get(LIST, query_string={"page": 3}).get_data(as_text=True)
    seen = _rows(first) + _rows(admin_client.get(LIST, query_string={"page": 2}).get_data(as_text=True)) \
        + _rows(third)
    assert len(seen) == 63 and set(ids) <= set(seen)
    # the search stays on the page links
    assert admin_client.get(LIST, query_string={"page": 4}).status_code == 404
    assert admin_client.get(LIST, query_string={"page": "two"}).status_code == 404
    searched = admin_client.get(LIST, query_string={"q": "用户"}).get_data(as_text=True)
    assert 'href="/admin/customers?q=%E7%94%A8%E6%88%B7&amp;page=2"' in searched


def test_the_list_runs_as_many_queries_for_thirty_customers_as_for_three(app, admin_client):
    referrer = UserFactory()
    level = MemberLevelFactory()

    def customers(n):
        for i in range(n):
            _customer(app, referrer=referrer, tag=f"t{i % 3}", level=level)

    def queries() -> int:
        with counted_queries(app) as statements:
            response = admin_client.get(LIST)
        assert response.status_code == 200
        return len(statements)

    customers(3)
    few = queries()
    customers(27)
    html = admin_client.get(LIST).get_data(as_text=True)
    assert len(_rows(html)) == 30
    assert queries() == few
    assert few <= 10


# --- one customer ---------------------------------------------------------------------------


def test_the_customer_page_shows_orders_ledgers_deals_referrals_and_history(app, admin_client):
    boss = UserFactory(nickname="上线")
    person = _customer(app, referrer=boss, nickname="客户甲", tag="老客")
    child = UserFactory(nickname="下线一")
    grandchild = UserFactory(nickname="下线二")
    BindingFactory(user_id=child.id, referrer_id=person.id)
    BindingFactory(user_id=grandchild.id, referrer_id=child.id)
    DistributorFactory(user_id=person.id, balance_minor=1000)
    CommissionEntryFactory(user_id=person.id, amount_minor=1000, balance_after_minor=1000)
    with app.app_context():
        order_id, sku_id = db.session.execute(
            select(Order.id, OrderLine.sku_id).join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.user_id == person.id)).one()
    campaign = GroupCampaignFactory()
    group = GroupFactory(campaign_id=campaign.id, leader_id=person.id)
    GroupMemberFactory(group_id=group.id, campaign_id=campaign.id, user_id=person.id,
                       order_id=order_id, sku_id=sku_id, leader=True)
    BargainFactory(user_id=person.id)
    coupon = UserCouponFactory(user_id=person.id)
    AuditEntryFactory(endpoint="referrals_admin.decide", target=f"user_id={person.id}")
    AuditEntryFactory(endpoint="referrals_admin.decide", target=f"user_id={boss.id}")  # another's
    with app.app_context():
        group_title = services.customer_detail(person.id).groups[0][2]
    html = admin_client.get(_page(person.id), headers=EN).get_data(as_text=True)
    assert 'data-testid="customer-name">客户甲<' in html
    assert f'href="/admin/orders/{order_id}"' in html
    for testid in ("wallet-entries", "points-entries", "commission-entries", "groups", "bargains",
                   "coupons"):
        block = html[html.index(f'data-testid="{testid}"'):]
        block = block[:block.index("</ul>")]
        assert "<li>" in block and "muted" not in block, testid
    with app.app_context():
        coupon_name = db.session.get(UserCoupon, coupon.id).coupon.name
    assert group_title in html and coupon_name in html
    referred = html[html.index('data-testid="referred"'):]
    assert "下线一" in referred and "下线二" in referred
    assert f'href="/admin/customers/{boss.id}">上线</a>' in html
    assert "老客" in html
    history = html[html.index('data-testid="history"'):]
    history = history[:history.index("</ul>")]
    assert history.count("<li>") == 1 and "referrals_admin" not in history
    said = " ".join(re.sub(r"<[^>]+>", " ", history).split())  # the audit log's sentence
    assert "(Admin) decided on the distributor application of 客户甲" in said
    assert admin_client.get("/admin/customers/999999").status_code == 404


# --- tags -----------------------------------------------------------------------------------


def test_an_admin_adds_and_removes_tags(app, admin_client):
    person = UserFactory()
    response = admin_client.post_form(f"{_page(person.id)}/tags", {"name": "  大 客户 "})
    assert response.status_code == 303
    assert _state(app, person.id)["tags"] == ["大 客户"]
    assert "大 客户" in admin_client.get(_page(person.id)).get_data(as_text=True)
    again = admin_client.post_form(f"{_page(person.id)}/tags", {"name": "大 客户"}, headers=EN)
    assert again.status_code == 409 and "already has the tag" in again.get_data(as_text=True)
    assert _state(app, person.id)["tags"] == ["大 客户"]
    gone = admin_client.post_form(f"{_page(person.id)}/tags/remove", {"name": "大 客户"})
    assert gone.status_code == 303 and _state(app, person.id)["tags"] == []
    missing = admin_client.post_form(f"{_page(person.id)}/tags/remove", {"name": "大 客户"})
    assert missing.status_code == 404


@pytest.mark.parametrize("name, status, message", [
    ("", 422, "Enter a tag."),
    ("   ", 422, "Enter a tag."),
    ("x" * 33, 422, "Use 1 to 32 characters."),
    ("bad\x00tag", 400, "control characters"),
    ("bad\x07tag", 400, "control characters"),
    ("a\u200bb", 422, "invisible"),
    ("<b>vip</b>", 422, "HTML tags"),
])
def test_a_bad_tag_is_refused_with_a_message_and_changes_nothing(app, admin_client, name, status,
                                                                  message):
    person = UserFactory()
    CustomerTagFactory(user_id=person.id, name="keep")
    response = admin_client.post_form(f"{_page(person.id)}/tags", {"name": name}, headers=EN)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _state(app, person.id)["tags"] == ["keep"]


# --- access ---------------------------------------------------------------------------------


def test_disabling_an_account_ends_its_sessions_and_enabling_lets_it_sign_in(app, admin_client):
    shopper_client, shopper = signed_in(app)
    assert shopper_client.get("/me").status_code == 200
    before = _state(app, shopper.id)
    response = admin_client.post_form(f"{_page(shopper.id)}/disable")
    assert response.status_code == 303
    after = _state(app, shopper.id)
    assert after["active"] is False and after["session_version"] == before["session_version"] + 1
    assert shopper_client.get("/me").status_code == 302  # signed out
    refused = app.test_client().post_form("/signin", {"email": shopper.email, "password": "password123"})
    assert refused.status_code == 422
    assert admin_client.post_form(f"{_page(shopper.id)}/enable").status_code == 303
    assert _state(app, shopper.id)["active"] is True
    assert shopper_client.get("/me").status_code == 302  # the old session stays ended
    app.test_client().signin(shopper.email)


def test_an_admin_can_not_disable_their_own_account_nor_the_last_admin(app):
    client, admin = signed_in(app, "admin")
    response = client.post_form(f"{_page(admin.id)}/disable", headers=EN)
    assert response.status_code == 409
    assert "can not disable your own account" in response.get_data(as_text=True)
    assert _state(app, admin.id)["active"] is True
    other = UserFactory(role="admin", active=False)  # disabled: not one who runs the shop
    with app.app_context():
        actor = db.session.get(User, other.id)
        target = db.session.get(User, admin.id)
        with pytest.raises(services.CustomerError):
            services.set_account_active(actor, target, False)  # a disabled admin acts not
        db.session.rollback()


# --- roles ----------------------------------------------------------------------------------


def _roles(client, user_id: int, role: str, *, can_publish: bool = False, stores=()):
    data = {"role": role, "stores": [str(s) for s in stores]}
    if can_publish:
        data["can_publish"] = "y"
    return client.post_form(f"{_page(user_id)}/roles", data, headers=EN)


def test_an_admin_makes_an_editor_with_the_publishing_right_and_the_audit_log_says_who(app):
    client, admin = signed_in(app, "admin")
    person = UserFactory()
    assert _roles(client, person.id, "editor", can_publish=True).status_code == 303
    state = _state(app, person.id)
    assert (state["role"], state["can_publish"]) == ("editor", True)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.endpoint == "accounts_admin.roles")).one()
        assert (entry.actor_id, entry.target, entry.status) == (admin.id, f"user_id={person.id}", 303)
        assert {"table": "users", "id": person.id} in [
            {"table": c["table"], "id": c["id"]} for c in entry.changes]
    history = client.get(_page(person.id), headers=EN).get_data(as_text=True)
    history = history[history.index('data-testid="history"'):]
    history = " ".join(re.sub(r"<[^>]+>", " ", history[:history.index("</ul>")]).split())
    assert "accounts_admin" not in history and "admin@" not in history
    assert f"{admin.nickname} (Admin) changed the role of {person.nickname}" in history
    # the right goes with the role
    assert _roles(client, person.id, "shopper", can_publish=True).status_code == 303
    assert (_state(app, person.id)["role"], _state(app, person.id)["can_publish"]) == ("shopper", False)


def test_a_clerk_made_store_staff_at_one_store_verifies_pickups_there(app, admin_client):
    here, elsewhere = StoreFactory(name="静安店"), StoreFactory(name="徐汇店")
    clerk_client, clerk = signed_in(app)
    assert clerk_client.get("/admin/pickup").status_code == 403
    page = admin_client.get(_page(clerk.id)).get_data(as_text=True)
    assert "静安店" in page and "徐汇店" in page and 'type="checkbox"' in page
    assert _roles(admin_client, clerk.id, "staff", stores=[here.id]).status_code == 303
    assert _state(app, clerk.id)["stores"] == [here.id] and _state(app, clerk.id)["role"] == "staff"
    pickup = clerk_client.get("/admin/pickup").get_data(as_text=True)
    assert "静安店" in pickup and "徐汇店" not in pickup
    # moved to the other store, then back to shopping: the bindings follow
    assert _roles(admin_client, clerk.id, "staff", stores=[elsewhere.id]).status_code == 303
    assert _state(app, clerk.id)["stores"] == [elsewhere.id]
    assert _roles(admin_client, clerk.id, "shopper", stores=[elsewhere.id]).status_code == 303
    assert _state(app, clerk.id)["stores"] == [] and _state(app, clerk.id)["role"] == "shopper"
    assert clerk_client.get("/admin/pickup").status_code == 403


def test_store_staff_without_a_store_or_with_a_store_that_is_none_are_refused(app, admin_client):
    store = StoreFactory()
    person = UserFactory()
    before = _state(app, person.id)
    response = _roles(admin_client, person.id, "staff")
    assert response.status_code == 422 and "Choose the stores" in response.get_data(as_text=True)
    response = _roles(admin_client, person.id, "staff", stores=[store.id, 999999])
    assert response.status_code == 422 and "not a valid choice" in response.get_data(as_text=True)
    response = _roles(admin_client, person.id, "staff", stores=["x"])
    assert response.status_code == 422
    assert _state(app, person.id) == before
    # the service's own rule, whatever the form allowed (its message read in English)
    with app.test_request_context(headers=EN):
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        user = db.session.get(User, person.id)
        with pytest.raises(services.CustomerError, match="does not exist"):
            services.set_roles(admin, user, "staff", False, [store.id, 999999])
        db.session.rollback()
    assert _state(app, person.id) == before


def test_the_last_admin_can_not_be_demoted_not_even_by_themselves(app):
    client, admin = signed_in(app, "admin")
    UserFactory(role="admin", active=False)  # a disabled admin runs nothing
    before = _state(app, admin.id)
    response = _roles(client, admin.id, "shopper")
    assert response.status_code == 409
    assert "This is the last admin" in response.get_data(as_text=True)
    assert _state(app, admin.id) == before
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.status).where(
            AuditEntry.endpoint == "accounts_admin.roles")) == 409  # the attempt is logged


def test_a_demoted_admin_loses_the_backoffice_at_once_and_stays_signed_in(app):
    client, admin = signed_in(app, "admin")
    other_client, other = signed_in(app, "admin")
    assert other_client.get(LIST).status_code == 200
    assert _roles(client, other.id, "shopper").status_code == 303
    assert other_client.get(LIST).status_code == 403  # the very next request
    assert other_client.get("/me").status_code == 200  # still signed in, as a shopper
    # and then the one admin left can demote themselves no more
    assert _roles(client, admin.id, "editor").status_code == 409


def test_a_non_admin_gets_403_on_every_route_and_changes_nothing(app):
    store = StoreFactory()
    person = UserFactory()
    CustomerTagFactory(user_id=person.id, name="keep")
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("accounts_admin.")]
    assert len(rules) == 7
    posts = {"add_tag": {"name": "new"}, "remove_tag": {"name": "keep"}, "disable": {},
             "enable": {}, "roles": {"role": "admin", "stores": [str(store.id)]}}
    for role in ("editor", "staff", "shopper"):
        client, user = signed_in(app, role)
        if role == "staff":
            StoreStaffFactory(store_id=store.id, user_id=user.id)
        before, mine = _state(app, person.id), _state(app, user.id)
        for rule in rules:
            url = rule.rule.replace("<int:user_id>", str(person.id))
            name = rule.endpoint.split(".")[1]
            if "POST" in rule.methods:
                response = client.post_form(url, posts[name])
                assert response.status_code == 403, (role, url)
                response = client.post_form(rule.rule.replace("<int:user_id>", str(user.id)),
                                            posts[name])
            else:
                response = client.get(url)
            assert response.status_code == 403, (role, url)
        assert _state(app, person.id) == before and _state(app, user.id) == mine
    anonymous = app.test_client().get(LIST)
    assert anonymous.status_code == 302 and "/signin" in anonymous.headers["Location"]
    for rule in rules:
        assert "admin" in app.view_functions[rule.endpoint].required_roles


# --- two admins at once (PostgreSQL) --------------------------------------------------------


@pytest.mark.postgres
def test_two_admins_demoting_each_other_at_once_leave_exactly_one(app, live_server):
    from tests.concurrency.http import form_fields, post_answer, request, session_cookie, together

    for _round in range(3):
        first, second = UserFactory(role="admin"), UserFactory(role="admin")
        pages = {}
        for actor, target in ((first, second), (second, first)):
            status, html, cookie = request(f"{live_server.url}{_page(target.id)}",
                                           session_cookie(app, actor.id))
            assert status == 200, html[:300]
            pages[actor.id] = (cookie, form_fields(html, "csrf_token"))
        results = together([
            lambda a=actor, t=target: post_answer(
                f"{live_server.url}{_page(t.id)}/roles", pages[a.id][0],
                dict(pages[a.id][1], role="shopper"))
            for actor, target in ((first, second), (second, first))])
        codes = sorted(code for code, _body in results)
        assert codes[0] == 303 and codes[1] in (403, 409), codes
        with app.app_context():
            admins = db.session.scalars(select(User.id).where(User.role == "admin")).all()
        assert len(admins) == 1 and admins[0] in (first.id, second.id)
        winner = [a for a, (code, _b) in zip((first, second), results) if code == 303][0]
        assert admins == [winner.id]
        with app.app_context():  # the next round starts from no admin at all
            db.session.execute(db.update(User).where(User.role == "admin").values(role="shopper"))
            db.session.commit()


def test_a_new_account_shows_the_level_it_is_on_as_its_shopper_sees_it(app, admin_client):
    from tests.factories import MemberLevelFactory

    MemberLevelFactory(name="普通会员", threshold=0)
    MemberLevelFactory(name="银卡", threshold=1000)
    person = UserFactory(nickname="新来的")
    page = admin_client.get(f"{_page(person.id)}", headers=EN).get_data(as_text=True)
    listed = admin_client.get("/admin/customers?q=新来的", headers=EN).get_data(as_text=True)
    assert "普通会员" in page and "普通会员" in listed and "银卡" not in listed


def test_an_account_made_by_phone_shows_and_can_be_made_store_staff(app, admin_client):
    from tests.factories import StoreFactory

    person = UserFactory(email=None, signin_phone="+8613800138000", password_hash="", nickname="用户8000")
    store = StoreFactory()
    listed = admin_client.get("/admin/customers?q=用户8000", headers=EN).get_data(as_text=True)
    page = admin_client.get(_page(person.id), headers=EN).get_data(as_text=True)
    assert "+8613800138000" in listed and "None" not in listed
    by_number = admin_client.get("/admin/customers?q=13800138000", headers=EN).get_data(as_text=True)
    assert "用户8000" in by_number  # found by the number it signs in with
    picked = admin_client.get("/admin/pick/customer?q=13800138000&name=user_id").get_data(as_text=True)
    assert "用户8000" in picked
    assert "+8613800138000" in page and ">None<" not in page
    made = admin_client.post_form(f"/admin/stores/{store.id}/staff", {"user_id": f"customer:{person.id}"})
    assert made.status_code in (302, 303)
    with app.app_context():
        assert db.session.get(User, person.id).role == "staff"
    assert "+8613800138000" in admin_client.get(f"/admin/stores/{store.id}", headers=EN).get_data(as_text=True)
