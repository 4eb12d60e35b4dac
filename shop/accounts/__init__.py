"""Accounts: registration, sign-in, profiles and roles."""
