"""Favourites (收藏) and browsing history (足迹).

Favourites are rows (user, product, when), one per pair, toggled by a POST.

The browsing history is not: a product page is a GET, and no GET changes the database
(house rule), so the last HISTORY_SIZE products a visitor viewed are kept on their
browser, newest first, in a signed cookie of its own ("seen"), not in the session
cookie: pages that only read the session never send it back, so a product page loading
while an item goes into the cart can not drop the item (tests/cart), and a lost write
here loses at most one viewed product. The cookie names the session's visitor id
(shop.web.visitor): it survives signing in, and is ignored once signing out has given
the browser to someone else. The shop keeps no record of what a shopper looked at
(nothing to export or erase); clearing the history deletes the cookie.""" 
