"""Customers and staff in the backoffice (issue 24): the list of every account with what
it bought, holds and came through, one customer's page across the domains, tags, and
the rules for disabling an account and for granting and revoking roles.

A package of its own, not part of shop.accounts: it reads the orders, ledgers, group
buys, bargains, coupons, referrals and the audit log, and every one of those domains
imports shop.accounts, so living there would make each of them an import cycle
(tests/test_layering.py). Its blueprint keeps the accounts' name: "accounts_admin"."""
