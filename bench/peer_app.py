"""The peer: ``GET /api/v1/me`` written the way most Flask users would write it.

flask-jwt-extended with a Redis blocklist, as its documentation shows
("Blocklist and Token Revoking", Redis example): ``jsonify``, the
extension's decorator, one ``GET`` of the ``jti`` per request. It verifies
the stack's real access tokens (same secret, issuer and audience) and is
served with the same gunicorn settings behind the same nginx. Bench-only.
"""

import os

import redis
from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, get_jwt, get_jwt_identity, jwt_required

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ["PEER_JWT_SECRET"]
app.config["JWT_ALGORITHM"] = "HS256"
app.config["JWT_DECODE_AUDIENCE"] = os.environ["PEER_JWT_AUDIENCE"]
app.config["JWT_DECODE_ISSUER"] = os.environ["PEER_JWT_ISSUER"]
app.config["JWT_DECODE_LEEWAY"] = 10
jwt = JWTManager(app)

jwt_redis_blocklist = redis.StrictRedis.from_url(
    os.environ["REDIS_URL"], password=os.environ.get("REDIS_AUTH_PASSWORD"), decode_responses=True
)


@jwt.token_in_blocklist_loader
def check_if_token_is_revoked(jwt_header, jwt_payload: dict):
    """The documented Redis blocklist check: one GET of the token's jti."""
    jti = jwt_payload["jti"]
    # Under revoked:, the only keys the stack's Redis users may read.
    token_in_redis = jwt_redis_blocklist.get(f"revoked:peer:{jti}")
    return token_in_redis is not None


@app.get("/peer/api/v1/me")
@jwt_required()
def me():
    """The same body as the stack's /api/v1/me."""
    claims = get_jwt()
    return jsonify(
        id=get_jwt_identity(),
        username=claims["username"],
        roles=claims["roles"],
        session_id=claims["sid"],
        expires_at=claims["exp"],
    )
