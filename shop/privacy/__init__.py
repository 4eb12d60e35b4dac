"""Privacy: the privacy page, a shopper's download of their data, and closing an account
(the closure itself is shop.accounts.closure; each domain erases its own rows). It stands
above the domains whose rows it exports, and no domain imports it."""
