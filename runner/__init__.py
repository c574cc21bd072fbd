"""The local (no Docker) runner: the same stack as compose, under supervisord."""
