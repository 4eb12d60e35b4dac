"""The backoffice's search words: admins only, CSRF on every form, and what a save changes."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.db import db
from shop.search import services
from shop.search.models import SearchKeyword, SynonymGroup
from tests.conftest import signed_in
from tests.factories import ProductFactory, SynonymGroupFactory

EN = {"Accept-Language": "en"}


def _groups(app) -> list[tuple[list, bool]]:
    with app.app_context():
        return [(g.terms, g.one_way) for g in db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))]


def test_only_admins_reach_the_pages_and_every_form_needs_its_csrf_token(app, client):
    group = SynonymGroupFactory()
    urls = ["/admin/search", f"/admin/search/synonyms/{group.id}"]
    assert all(client.get(url).status_code == 302 for url in urls)  # to sign in
    for role in ("shopper", "editor", "staff"):
        other, _user = signed_in(app, role)
        assert [other.get(url).status_code for url in urls] == [403, 403]
        assert other.post_form(f"/admin/search/synonyms/{group.id}/delete").status_code == 403
    admin, _user = signed_in(app, "admin")
    for url in (*urls, f"/admin/search/synonyms/{group.id}/delete", "/admin/search/keywords"):
        assert admin.post(url, data={"terms": "甲 乙", "recommended": "甲"}).status_code == 400
    assert _groups(app) == [(["芒果", "芒", "mango"], False)]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchKeyword)) == 0


def test_an_admin_adds_edits_and_deletes_synonyms_and_search_follows(app, admin_client):
    ProductFactory(title="新西兰阳光金果")
    assert "阳光金果" not in admin_client.get("/search?q=猕猴桃").get_data(as_text=True).split("section-title")[0]
    refused = admin_client.post_form("/admin/search", {"terms": "猕猴桃"}, headers=EN)
    assert refused.status_code == 422 and "at least two words" in refused.get_data(as_text=True)
    assert _groups(app) == []
    assert admin_client.post_form("/admin/search", {"terms": "猕猴桃，奇异果 、金果 Kiwi"}).status_code == 303
    assert _groups(app) == [(["猕猴桃", "奇异果", "金果", "kiwi"], False)]
    assert "阳光金果" in admin_client.get("/search?q=猕猴桃").get_data(as_text=True)
    with app.app_context():
        group_id = db.session.scalar(select(SynonymGroup.id))
    assert admin_client.post_form(f"/admin/search/synonyms/{group_id}",
                                  {"terms": "猕猴桃 金果", "one_way": "y"}).status_code == 303
    assert _groups(app) == [(["猕猴桃", "金果"], True)]
    assert admin_client.post_form(f"/admin/search/synonyms/{group_id}/delete").status_code == 303
    assert _groups(app) == []
    assert "阳光金果" not in admin_client.get("/search?q=猕猴桃").get_data(as_text=True).split("section-title")[0]


def test_recommended_words_lead_the_empty_search_page_and_hidden_ones_never_show(app, admin_client):
    saved = admin_client.post_form("/admin/search/keywords", {"recommended": "芒果\n 龙井 \n芒果", "hidden": "坏词"})
    assert saved.status_code == 303
    with app.app_context():
        rows = db.session.execute(select(SearchKeyword.kind, SearchKeyword.term)
                                  .order_by(SearchKeyword.kind, SearchKeyword.position)).all()
    assert rows == [("hidden", "坏词"), ("recommended", "芒果"), ("recommended", "龙井")]
    with app.app_context():
        for term in ("坏词", "榴莲", "芒果") * app.config["SEARCH_HOT_MIN_VISITORS"]:
            services.count_search(term)
        db.session.commit()
    page = admin_client.get("/search", headers=EN).get_data(as_text=True)
    assert page.index("Recommended") < page.index("芒果") < page.index("龙井")
    hot = page[page.index("Hot searches"):]
    assert "榴莲" in hot and "坏词" not in page and "芒果" not in hot  # recommended already
