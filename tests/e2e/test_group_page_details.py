"""The group page at 390x844 as drawn: a leader's uploaded avatar that is not square keeps
its proportions in a row of seats of one height, and a countdown over a day ticks as days
and a clock, in the words the server used."""

import io
import re

import pytest
from PIL import Image

from shop.accounts.models import User
from shop.db import db
from shop.media.services import store_image
from tests.factories import UserFactory
from tests.groups.helpers import campaign, open_paid_group, set_deadline

pytestmark = pytest.mark.e2e


def _wide_avatar(app, user_id: int) -> None:
    data = io.BytesIO()
    Image.new("RGB", (300, 150), "#3366cc").save(data, "PNG")
    with app.app_context():
        stored = store_image(data.getvalue())
        user = db.session.get(User, user_id)
        user.avatar_key, user.avatar_widths = stored.key, ",".join(map(str, stored.widths))
        db.session.commit()


def test_the_leaders_avatar_is_round_and_a_long_countdown_ticks_in_days(app, page):
    campaign_id, sku_id = campaign(size=2)
    leader = UserFactory(nickname="阿明")
    _wide_avatar(app, leader.id)
    client = app.test_client()
    client.signin(leader.email)
    _client, _user, group_id = open_paid_group(app, campaign_id, sku_id, client=client, user=leader)
    set_deadline(app, group_id, 7 * 86400 - 20)

    page.goto(f"/groups/{group_id}")
    avatar = page.locator("#group-seats .seat.paid .seat-avatar").bounding_box()
    free = page.locator("#group-seats .seat.empty .seat-avatar").bounding_box()
    assert avatar["width"] == avatar["height"] == 48 == free["height"]
    assert free["y"] == avatar["y"]  # one row of seats: no seat taller than its circle and name
    assert page.locator("#group-seats").bounding_box()["height"] < 80
    drawn = page.locator("#group-seats .seat.paid img.seat-avatar").evaluate(
        "el => [el.naturalWidth / el.naturalHeight, getComputedStyle(el).objectFit]")
    assert drawn[0] == 2 and drawn[1] == "cover"  # the wide picture is cropped, not squeezed
    clock = page.locator("#group-deadline time[data-countdown]")
    page.wait_for_timeout(1100)  # the script has rewritten it at least once
    assert re.fullmatch(r"6(天| days )23:59:\d\d", clock.inner_text().strip())

