"""Search: the index over each product's text (shop.search.indexing), what a query finds
and in which order (services), synonyms and keywords that admins keep, suggestions as
one types, recent searches (the visitor's session) and hot searches (counted)."""
