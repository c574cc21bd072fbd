"""The sink's one file: a JSON object per line, appended as each message arrives."""

import email
import email.policy
import json
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "messages.jsonl"


def record(raw: bytes, recipients: list[str], sender: str) -> dict:
    """What the sink keeps of a message: envelope recipients, sender, subject, plain-text body."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain", "html"))
    return {
        "to": ", ".join(recipients),
        "from": sender,
        "subject": str(message.get("Subject", "")),
        "body": part.get_content() if part is not None else "",
        "received_at": datetime.now(UTC).isoformat(),
    }


def append(directory: Path, entry: dict) -> None:
    """Add one message to the file (flushed to disk before the server says 250)."""
    with (directory / FILE_NAME).open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        out.flush()


def read(directory: Path, to: str | None = None) -> list[dict]:
    """Every message kept, oldest first; with ``to``, only those to that address (any case)."""
    path = directory / FILE_NAME
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if to:
        wanted = to.casefold()
        entries = [e for e in entries if wanted in (r.strip().casefold() for r in e["to"].split(","))]
    return entries
