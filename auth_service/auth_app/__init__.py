"""auth_service: identities and sessions; signs access tokens, rotates refresh tokens."""

from auth_app.app import create_app

__all__ = ["create_app"]
