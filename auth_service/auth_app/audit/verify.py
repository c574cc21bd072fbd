"""``python -m auth_app.audit.verify``: check the audit trail's hash chain (``make audit-verify``).

Prints the verdict as JSON; exits 0 if the chain is intact, 1 if a link is
broken, 2 if it could not be checked. Connects as the service (it only reads).
"""

import os
import sys

import orjson
import psycopg

from auth_app.audit.chain import verify
from auth_app.settings import database_conninfo
from authcore.settings import SettingsError


def main() -> int:
    """Command-line entry point."""
    try:
        with psycopg.connect(database_conninfo(os.environ), connect_timeout=5) as conn:
            verdict = verify(conn)
    except SettingsError as exc:
        print(f"error: invalid settings: {exc}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        print(f"error: cannot check the audit trail: {type(exc).__name__}", file=sys.stderr)
        return 2
    print(orjson.dumps(verdict.body(), option=orjson.OPT_INDENT_2).decode("utf-8"))
    return 0 if verdict.intact else 1


if __name__ == "__main__":
    sys.exit(main())
