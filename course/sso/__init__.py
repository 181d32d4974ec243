"""Sign-in with an organisation's OpenID Connect provider (Authlib does the protocol).

The rest of the app talks to this package through a few domain functions: which providers there are
(providers.py), whether an address may use a password (providers.password_allowed), and which account an
organisation identity signs in as (linking.py)."""
