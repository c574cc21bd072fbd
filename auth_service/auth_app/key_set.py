"""``GET /.well-known/jwks.json``: the stack's published public keys (RFC 7517 JWK Set).

The document is the union of *sources*, each a named list of public JWKs.
Two today: the access-token keys (empty under HS256, whose secret is never
published) and the ID-token keys of single sign-on (auth_app/oidc). A kind
of key joins by adding a source; verifiers pick a key by ``kid``, so kids must
be unique across sources, which is checked when the document is built.

The document only changes when the service restarts with other keys, so it
is serialised once, with a strong ETag, and cached by clients and proxies
for ``MAX_AGE_SECONDS``: the wait between publishing a next key and signing
with it (docs/OPERATIONS.md "Rotating keys").
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue

from authcore.keys import public_key_set
from authcore.settings import TokenSettings

MAX_AGE_SECONDS = 300
PATH = "/.well-known/jwks.json"

bp = Blueprint("key_set", __name__)


@dataclass(frozen=True)
class KeySetDocument:
    """The serialised JWK Set and its ETag."""

    body: bytes
    etag: str


def access_token_keys(tokens: TokenSettings) -> list[dict[str, Any]]:
    """The public JWKs access tokens are verified with (none under HS256)."""
    keys: list[dict[str, Any]] = public_key_set(tokens.asymmetric_keys)["keys"] if tokens.asymmetric else []
    return keys


def build_document(sources: Iterable[Callable[[], list[dict[str, Any]]]]) -> KeySetDocument:
    """One JWK Set of every source's keys; ``ValueError`` if two keys share a kid."""
    keys = [jwk for source in sources for jwk in source()]
    kids = [jwk["kid"] for jwk in keys]
    if len(set(kids)) != len(kids):
        raise ValueError("two published keys share a kid")
    body = orjson.dumps({"keys": keys})
    return KeySetDocument(body, hashlib.sha256(body).hexdigest()[:32])


KeySource = Callable[[], list[dict[str, Any]]]


def init_app(app: Flask, tokens: TokenSettings, more_sources: Iterable[KeySource] = ()) -> None:
    """Build the document from the app's key sources and serve it at ``PATH``.

    ``more_sources`` add other kinds of keys (the ID-token keys of single sign-on).
    """
    app.extensions["key_set"] = build_document([lambda: access_token_keys(tokens), *more_sources])
    app.register_blueprint(bp)


@bp.get(PATH)
def jwks() -> ResponseReturnValue:
    """The public JWK Set; 304 when the client's ``If-None-Match`` names the current ETag."""
    document: KeySetDocument = current_app.extensions["key_set"]
    response = current_app.response_class(document.body, mimetype="application/json")
    response.set_etag(document.etag)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    # make_conditional answers If-None-Match with 304 (and ignores malformed values).
    return response.make_conditional(request)
