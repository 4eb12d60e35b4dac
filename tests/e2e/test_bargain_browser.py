"""On a phone (390x844): a shopper starts a bargain; a friend cuts it; without a reload,
the starter's buy button reads the live price ("以 ¥x 购买"), as the price above it does
(issue 26: it kept the start price until a reload)."""

import re

import pytest
from playwright.sync_api import expect

from tests.bargains.helpers import cut_by_new_helpers, state
from tests.conftest import browser_sign_in
from tests.factories import BargainCampaignFactory, UserFactory

pytestmark = pytest.mark.e2e


def _yuan(minor: int) -> str:
    return f"¥{minor // 100}.{minor % 100:02d}"


def test_the_buy_button_shows_the_live_price_after_a_cut(app, phone):
    campaign = BargainCampaignFactory()  # 100.00 down to 10.00 with 5 friends
    starter = UserFactory()
    page = phone()
    browser_sign_in(page, starter.email, f"/bargains/campaign/{campaign.id}")
    page.get_by_test_id("bargain-start").click()
    page.wait_for_url(re.compile(r"/bargains/\d+$"))
    bargain_id = int(page.url.rsplit("/", 1)[1])
    buy = page.get_by_test_id("bargain-buy")
    expect(buy).to_have_text("以 ¥100.00 购买")
    page.evaluate("window.__notReloaded = true")

    cut_by_new_helpers(app, bargain_id, 1)  # a friend cuts, through the cut's service
    _status, helps, price, _version, _order = state(app, bargain_id)
    assert helps == 1 and price < 10_000
    # the progress polls every 3 s; its answer relabels the button out of band
    expect(page.get_by_test_id("bargain-price")).to_have_text(_yuan(price), timeout=8_000)
    expect(buy).to_have_text(f"以 {_yuan(price)} 购买")
    assert page.evaluate("window.__notReloaded === true")
