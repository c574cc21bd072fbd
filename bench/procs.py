"""The stack's processes from /proc: resident memory and CPU time, without extra packages."""

import os
from pathlib import Path

from runner.processes import stat_fields

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def memory_kib(pids: list[int]) -> dict[str, int]:
    """Summed RSS (shared pages counted in each process) and PSS (shared pages split) in KiB."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_kib": rss, "pss_kib": pss}


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of ``pids`` so far."""
    total = 0
    for pid in pids:
        try:
            fields = stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def pids_in_dir(pids: list[int], folder: Path) -> list[int]:
    """Those of ``pids`` whose working directory is ``folder`` (e.g. one service's gunicorn)."""
    found = []
    for pid in pids:
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) == folder:
                found.append(pid)
        except OSError:
            continue
    return found
