"""``make bench``: the stack measured side by side against its ceilings and a peer (see PERFORMANCE.md)."""
