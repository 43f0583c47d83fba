"""Test helpers in one place: what the tests make, not what they check.

users.py     auth users, their session claims, URLs as Supabase's service roles
auth_mail.py Supabase Auth's invite and sign-in-link mail endpoints (respx)
tokens.py    API access tokens (legacy HS256, as Supabase Auth signs them) and the
             settings that accept them
jwks.py      a project's signing keys and JWKS, and ways to forge tokens
attacks.py   the JWT attack table
teams.py     teams, and a crew with one user per role
channels.py  channels tracked by a team
monitor.py   observations on a timeline, and one written monitor cycle
directory.py Microsoft identity platform, Graph, Google's token endpoint and the
             Admin SDK Directory API faked at the HTTP boundary (directory sync)

No test module imports another test module (or a conftest): shared helpers live
here or in a `support.py` beside the tests that use them.
"""
