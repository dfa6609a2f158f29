"""Accounts: users and roles, login with its throttle, server-side sessions and API tokens (expiry,
revocation), the admin pages for users, units and unit groups, and the audit log page.

Views: ``auth_views`` (login, logout, the user loaders), ``account_views`` (own password and tokens),
``admin_views`` and ``group_views`` (the admin blueprint). Use cases: ``users``, ``login``, ``sessions``,
``tokens``, ``admin``; ``cli`` has ``create-user`` and ``create-token``."""
