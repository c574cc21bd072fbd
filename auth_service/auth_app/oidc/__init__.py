"""The OpenID Connect provider: single sign-on for other apps (docs/OIDC.md).

One module per job: ``clients`` (registration rules), ``client_store`` (its
SQL), ``client_routes`` (the admin routes), ``signing_keys`` (the ID-token
keys), ``discovery`` (the provider's metadata) and ``wiring`` (putting them
into the app).
"""
