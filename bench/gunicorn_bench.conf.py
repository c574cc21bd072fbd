"""gunicorn settings of the bench-only apps: the stack's shared defaults, then the app.

``BENCH_APP`` names the app (``bench.ceiling_app:app`` or ``bench.peer_app:app``),
so the ceilings and the peer run with exactly the stack's worker settings.
"""

import os
from pathlib import Path

from authcore.gunicorn_defaults import *  # noqa: F403

pythonpath = str(Path(__file__).resolve().parent.parent)
wsgi_app = os.environ["BENCH_APP"]
