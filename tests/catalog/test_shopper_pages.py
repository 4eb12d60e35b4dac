from tests.factories import CategoryFactory, ProductFactory, ProductImageFactory, product_with_skus

EN = {"Accept-Language": "en"}


def test_home_lists_featured_products_and_categories(client):
    category = CategoryFactory(name="水果")
    ProductFactory(title="精选苹果", featured=True, category=category)
    ProductFactory(title="草稿商品", featured=True, status="draft", category=category)
    html = client.get("/").get_data(as_text=True)
    assert "精选苹果" in html and "水果" in html
    assert "草稿商品" not in html


def test_category_page_includes_children_paginates_and_sorts(app, client):
    app.config["PAGE_SIZE"] = 2
    parent = CategoryFactory(name="零食")
    child = CategoryFactory(name="坚果", parent=parent)
    ProductFactory(title="便宜", price_minor=100, category=parent)
    ProductFactory(title="中等", price_minor=500, category=child)
    ProductFactory(title="最贵", price_minor=900, category=child)
    ProductFactory(title="下架", price_minor=50, category=child, status="off_sale")

    page1 = client.get(f"/c/{parent.id}?sort=price_asc").get_data(as_text=True)
    assert page1.index("便宜") < page1.index("中等") and "最贵" not in page1
    assert "下架" not in page1
    page2 = client.get(f"/c/{parent.id}?sort=price_asc&page=2").get_data(as_text=True)
    assert "最贵" in page2 and "便宜" not in page2
    desc = client.get(f"/c/{parent.id}?sort=price_desc").get_data(as_text=True)
    assert desc.index("最贵") < desc.index("中等")
    assert client.get(f"/c/{parent.id}?page=9").status_code == 404
    assert client.get(f"/c/{parent.id}?page=abc").status_code == 404


def test_category_sort_through_htmx_returns_the_results_fragment(client):
    category = CategoryFactory()
    ProductFactory(title="甲", category=category)
    response = client.get(f"/c/{category.id}?sort=sales", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "甲" in body and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_search_matches_both_languages_and_escapes_wildcards(client):
    berry = ProductFactory(title="有机草莓", code="berry")
    milk = ProductFactory(title="牛奶", code="milk")
    assert "有机草莓" in client.get("/search?q=草莓").get_data(as_text=True)
    english = client.get("/search?q=Product berry", headers=EN).get_data(as_text=True)
    assert "Product berry" in english and "Product milk" not in english
    # the query is echoed in the search box: only a result links to the product
    assert f'href="/p/{berry.id}"' in english and f'href="/p/{milk.id}"' not in english
    assert "No products match" in client.get("/search?q=%25", headers=EN).get_data(as_text=True)
    # the JSON's own keys are not text to search
    assert "No products match" in client.get("/search?q=title", headers=EN).get_data(as_text=True)
    assert "Product berry" in client.get("/search?q=Good stuff", headers=EN).get_data(as_text=True)


def test_sort_links_live_inside_the_swapped_results(client):
    category = CategoryFactory()
    ProductFactory(category=category)
    fragment = client.get(f"/c/{category.id}?sort=sales", headers={"HX-Request": "true"}).get_data(as_text=True)
    import re

    current = re.findall(r'<a href="[^"]*sort=(\w+)"[^>]*aria-current="true"', fragment)
    assert current == ["sales"]


def test_unknown_and_hidden_products_are_404(client):
    draft = ProductFactory(status="draft")
    assert client.get("/p/999999").status_code == 404
    assert client.get(f"/p/{draft.id}").status_code == 404
    assert client.get("/c/999999").status_code == 404


def test_product_page_shows_skus_open_graph_and_srcset(client):
    product, (red, blue) = product_with_skus(title="T恤")
    ProductImageFactory(product=product)
    html = client.get(f"/p/{product.id}").get_data(as_text=True)
    assert '<meta property="og:title" content="T恤">' in html
    assert 'property="og:image"' in html and "srcset=" in html and " 480w" in html
    assert "¥19.90" in html and "In stock: 10" not in html  # zh by default
    assert 'name="o0" value="红" checked' in html


def test_choosing_a_sku_swaps_price_and_stock_through_htmx(client):
    product, _ = product_with_skus()
    response = client.get(f"/p/{product.id}?o0=蓝", headers={"HX-Request": "true", **EN})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="sku-panel"' in body and "¥25.90" in body and "Sold out" in body
    full = client.get(f"/p/{product.id}?o0=蓝", headers=EN).get_data(as_text=True)
    assert "<html" in full and "¥25.90" in full  # the pushed URL loads as a full page
    unknown = client.get(f"/p/{product.id}?o0=绿", headers={"HX-Request": "true", **EN})
    assert "¥19.90" in unknown.get_data(as_text=True)  # not a value of this product: no choice


def test_a_missing_combination_says_so(client):
    from tests.factories import SkuFactory

    product = ProductFactory(option_names=["颜色", "尺码"])
    SkuFactory(product=product, option_values=["红", "M"], price_minor=1990, stock=3)
    SkuFactory(product=product, option_values=["蓝", "L"], price_minor=1990, stock=3)
    response = client.get(f"/p/{product.id}?o0=红&o1=L", headers={"HX-Request": "true", **EN})
    assert "This combination is not available." in response.get_data(as_text=True)


def test_junk_choices_do_not_grow_the_cache(app, client):
    from shop.extensions import cache

    product, _ = product_with_skus()
    for n in range(20):
        assert client.get(f"/p/{product.id}?o0=junk{n}").status_code == 200
    with app.app_context():
        keys = [k for k in cache.cache._cache if "frag:product" in k]
    assert len(keys) == 1, keys


def test_shared_links_ignore_the_host_header(app, client):
    product, _ = product_with_skus()
    html = client.get(f"/p/{product.id}", headers={"Host": "evil.example"}).get_data(as_text=True)
    base = app.config["SHOP_BASE_URL"]
    assert f'<meta property="og:url" content="{base}/p/{product.id}">' in html
    assert "evil.example" not in html


def test_english_shows_translations(client):
    product, _ = product_with_skus()
    html = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert f"Product {product.code}" in html and "Colour" in html and "Red" in html


def test_a_hidden_parent_hides_its_children(client):
    parent = CategoryFactory(active=False)
    child = CategoryFactory(parent=parent)
    assert client.get(f"/c/{child.id}").status_code == 404
    assert client.get(f"/c/{parent.id}").status_code == 404
