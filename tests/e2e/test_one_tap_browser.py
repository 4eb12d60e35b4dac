"""One tap from a link, on a phone (390x844), against localstripe: a visitor who has never
been here opens a friend's group-buy share link, taps Join, signs up in the sheet that
opens in place with a phone number and the code from the outbox (signed in as the 6th
digit is typed), lands back on the join step with the option picked, fills the address
(the district found by a search), goes from "Join and pay" straight to the card form of
the new wallet-less account and pays, and the leader's page, left open, turns complete;
the visitor is bound to the sharer. The taps and keystrokes from the link to paid are
counted as they are made, step by step, and printed (README, "One tap from a link")."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from shop.accounts.models import User
from shop.db import db
from shop.orders.models import Order
from shop.referrals.models import Binding
from tests.conftest import ADDRESS, assert_accessible, browser_sign_in, browser_type_card
from tests.factories import UserFactory
from tests.groups.helpers import campaign, group_state, open_paid_group

pytestmark = pytest.mark.e2e

NUMBER = "13800138000"  # the visitor's, and the address's (tests.conftest.ADDRESS)


class Tally:
    """The taps and keystrokes so far, and those of each step done (`step`)."""

    def __init__(self):
        self.taps = self.keys = 0
        self.steps: list[tuple[str, int, int]] = []

    def step(self, name: str) -> None:
        self.steps.append((name, self.taps - sum(s[1] for s in self.steps),
                           self.keys - sum(s[2] for s in self.steps)))

    def table(self) -> str:
        rows = [f"{name:<28}{taps:>5}{keys:>6}" for name, taps, keys in self.steps]
        return "\n".join([f"{'step':<28}{'taps':>5}{'keys':>6}", *rows,
                          f"{'from the link to paid':<28}{self.taps:>5}{self.keys:>6}"])


class Counted:
    """A page, or a locator of it, that counts what a person does on a phone: a tap per
    click (a select's choice is two: open, pick), a tap to put the cursor in a field that
    does not have it already, a keystroke per character typed; nothing for a field that
    already holds what would be typed."""

    def __init__(self, target, tally: Tally):
        self._target, self._tally = target, tally

    def _focused(self) -> bool:
        return self._target.evaluate("el => el === document.activeElement")

    def click(self, *args, **kwargs):
        self._tally.taps += 1
        return self._target.click(*args, **kwargs)

    def select_option(self, *args, **kwargs):
        self._tally.taps += 2
        return self._target.select_option(*args, **kwargs)

    def fill(self, value: str, **kwargs):
        if self._target.input_value() == value:
            return None  # already there (filled in for them): nothing to do
        if not self._focused():
            self._tally.taps += 1
        self._tally.keys += len(value)
        return self._target.fill(value, **kwargs)

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if isinstance(attr, (Locator, Page)):
            return Counted(attr, self._tally)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            found = attr(*args, **kwargs)
            return Counted(found, self._tally) if isinstance(found, Locator) else found

        return call


def _code(app) -> str:
    latest = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*-sms-*.txt"))[-1]
    return re.search(r"\b(\d{6})\b", latest.read_text(encoding="utf-8")).group(1)


def test_a_visitor_joins_from_a_share_link_by_phone_and_pays_by_card(stripe_app, stripe_webhook, phone):
    app = stripe_app
    campaign_id, sku_id = campaign(size=2, price=990, leader_price=890)
    leader = UserFactory(nickname="阿明")
    leader_client = app.test_client()
    leader_client.signin(leader.email)
    _, _, group_id = open_paid_group(app, campaign_id, sku_id, client=leader_client, user=leader,
                                     price=890)
    with app.app_context():
        link = f"/s/{db.session.get(User, leader.id).referral_code}-g{group_id}"

    # the leader's page, open on the leader's phone
    mine = phone()
    browser_sign_in(mine, leader.email, f"/groups/{group_id}")
    expect(mine.get_by_test_id("group-status")).to_contain_text("1")

    # the friend opens the link from the chat: a new browser, never signed in
    tally = Tally()
    raw = phone()
    visitor = Counted(raw, tally)
    visitor.goto(link)
    raw.wait_for_url(f"**/groups/{group_id}?shared=*")
    visitor.get_by_test_id("guest-join").click()
    tally.step("Join")

    sheet = raw.locator("dialog[data-sheet]")
    expect(sheet).to_be_visible()
    assert raw.evaluate("document.activeElement.closest('dialog[data-sheet]') !== null")  # focus inside
    assert raw.url.endswith(f"?shared={link[3:]}")  # in place: the page did not change
    assert_accessible(raw)
    # Escape and the close button close it (checks, not the visitor's taps: not counted)
    raw.keyboard.press("Escape")
    expect(sheet).to_have_count(0)
    raw.get_by_test_id("guest-join").click()
    raw.get_by_test_id("sheet-close").click()
    expect(sheet).to_have_count(0)
    raw.get_by_test_id("guest-join").click()
    expect(sheet).to_be_visible()
    visitor.get_by_label("手机号码").fill(NUMBER)
    visitor.get_by_role("button", name="获取验证码").click()
    tally.step("number, Send the code")
    code_field = "dialog[data-sheet] input[autocomplete=one-time-code]"
    expect(raw.locator(code_field)).to_be_focused()  # the code's field has the cursor
    expect(raw.locator("#code-auto")).to_be_visible()  # says it signs in by itself
    assert_accessible(raw)
    visitor.locator(code_field).fill(_code(app))  # the 6th digit signs in: no button to tap

    # back on the join step, signed in, the option chosen and the address asked for
    raw.wait_for_url(f"**/groups/{group_id}#join")
    tally.step("the code (signs in)")
    expect(raw.locator(f"input[name=sku_id][value='{sku_id}']")).to_be_checked()
    expect(raw.get_by_label("手机号码", exact=True)).to_have_value(NUMBER)  # the number signed in with
    visitor.get_by_label("收货人", exact=True).fill(ADDRESS["name"])
    tally.step("recipient")
    visitor.get_by_test_id("district-search").fill("西湖")
    expect(raw.get_by_test_id("district-match")).to_have_count(3)
    assert_accessible(raw)  # the matches listed too
    visitor.get_by_role("button", name="浙江省 · 杭州市 · 西湖区").click()  # the first match
    expect(raw.locator("select[name=district]")).to_have_value(ADDRESS["district"])
    expect(raw.locator("select[name=province]")).to_have_value(ADDRESS["province"])
    tally.step("district: search, pick")
    visitor.get_by_label("详细地址", exact=True).fill(ADDRESS["detail"])
    tally.step("street")
    visitor.get_by_test_id("join-group").click()
    raw.wait_for_url("**/payments/*")  # a new account, nothing in a wallet: the card form
    tally.step("Join and pay")
    browser_type_card(visitor, "4242424242424242")
    tally.step("card")
    visitor.get_by_test_id("pay-card").click()
    raw.wait_for_url("**/result")
    tally.step("Pay")
    print(f"\none tap from a link:\n{tally.table()}")
    assert (tally.taps, tally.keys) == (9, 57)  # README, "One tap from a link"

    # the leader's page was never reloaded: the poll turned it complete
    expect(mine.get_by_test_id("group-status")).to_contain_text("拼团成功", timeout=15_000)
    assert group_state(app, group_id)["status"] == "complete"
    with app.app_context():
        visitor_user = db.session.scalar(select(User).where(User.signin_phone == "+86" + NUMBER))
        assert visitor_user.email is None and re.fullmatch(r"用户\d{4}", visitor_user.nickname)
        binding = db.session.get(Binding, visitor_user.id)
        assert binding.referrer_id == leader.id
        assert db.session.scalar(select(Order.status).where(Order.user_id == visitor_user.id)) == "paid"
