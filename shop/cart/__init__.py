"""The cart: in the session for visitors, in the database for accounts, merged at sign-in."""
