"""The home page: the storefront that puts the catalogue's categories and featured
products beside the articles' feed. It stands above both domains (it imports them;
neither imports it), so the catalogue need not know about articles."""
