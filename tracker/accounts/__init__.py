"""Accounts: server-side login sessions and API tokens (listing, expiry, revocation)."""
