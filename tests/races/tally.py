"""What the race battery counts, shared by the tests and the summary printed after them."""

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    """What one pair's rounds came to."""

    rounds: int = 0
    retried: int = 0
    stale: int = 0
    seconds: float = 0.0
    server_errors: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    stale_examples: list[str] = field(default_factory=list)


# pair name -> its tally, in the order the pairs ran.
SUMMARY: dict[str, Tally] = {}
# Which stack the battery ran against, for the summary's first line.
STACK_DESCRIPTION: list[str] = []


def summary_lines() -> list[str]:
    """The summary table: one line per pair."""
    if not SUMMARY:
        return []
    lines = [
        "race battery against " + (STACK_DESCRIPTION[0] if STACK_DESCRIPTION else "?"),
        f"{'pair':<28}{'rounds':>7}{'rerun':>7}{'stale':>7}{'5xx':>5}{'secs':>7}  outcomes",
    ]
    for name, tally in SUMMARY.items():
        outcomes = ", ".join(f"{what}: {count}" for what, count in sorted(tally.outcomes.items()))
        lines.append(
            f"{name:<28}{tally.rounds:>7}{tally.retried:>7}{tally.stale:>7}"
            f"{len(tally.server_errors):>5}{tally.seconds:>7.1f}  {outcomes}"
        )
    return lines
