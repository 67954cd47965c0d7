"""Clinician and API identity: accounts and sessions, passwords, sign-in limits, two-factor codes, API tokens."""
