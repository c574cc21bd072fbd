"""api_service: the resource server. Verifies access tokens locally and checks revocation in Redis."""

from api_app.app import create_app

__all__ = ["create_app"]
