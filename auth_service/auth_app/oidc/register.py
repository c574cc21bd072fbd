"""Register an OIDC client from the command line (``make oidc-client``).

``python -m auth_app.oidc.register NAME REDIRECT_URI [--public] [--first-party]
[--post-logout-redirect-uri URI] [--alg ALG]`` prints the client as JSON,
with a confidential client's secret (shown this once).
"""

import argparse
import json
import os
import sys

import psycopg

from auth_app.oidc.clients import CONFIDENTIAL, PUBLIC, create_client, validated_client
from auth_app.oidc.signing_keys import ALGORITHMS
from auth_app.settings import database_conninfo
from authcore.errors import ValidationFailed
from authcore.settings import SettingsError


def main(argv: list[str]) -> int:
    """Register one client; exit 0 with its JSON on stdout, non-zero with a message otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m auth_app.oidc.register", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("name")
    parser.add_argument("redirect_uri")
    parser.add_argument("--public", action="store_true", help="a public client (PKCE, no secret)")
    parser.add_argument("--first-party", action="store_true", help="no consent screen")
    parser.add_argument("--post-logout-redirect-uri", action="append", default=[])
    parser.add_argument("--alg", choices=ALGORITHMS, default=ALGORITHMS[0])
    args = parser.parse_args(argv)
    try:
        fields = validated_client(
            {
                "name": args.name,
                "type": PUBLIC if args.public else CONFIDENTIAL,
                "first_party": args.first_party,
                "redirect_uris": [args.redirect_uri],
                "post_logout_redirect_uris": args.post_logout_redirect_uri,
                "id_token_signed_response_alg": args.alg,
            },
            ALGORITHMS,
        )
        database_url = database_conninfo(os.environ)
    except ValidationFailed as exc:
        problems = ", ".join(f"{name} {problem}" for name, problem in (exc.fields or {}).items())
        print(f"error: {problems}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn, conn.transaction():
            body = create_client(conn, fields)
    except psycopg.OperationalError:
        print("error: cannot reach the database", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
