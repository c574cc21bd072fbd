"""``python -m mailsink serve|show``: run the development mail sink, or print what it received.

serve --dir DIR [--host H] [--port P]     accept mail on SMTP, append it to DIR/messages.jsonl
show --dir DIR [--to ADDR] [--format text|json] [--last N]
                                          the latest messages (recipient, subject, body)
"""

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP

from mailsink import messages


class StoringHandler:
    """aiosmtpd handler: every accepted message is written to the file before 250 is answered."""

    def __init__(self, directory: Path):
        self._directory = directory

    async def handle_DATA(self, server, session, envelope) -> str:
        """Keep the message."""
        entry = messages.record(envelope.content, list(envelope.rcpt_tos), envelope.mail_from or "")
        messages.append(self._directory, entry)
        print(f"received mail to {entry['to']}: {entry['subject']}", flush=True)
        return "250 Message accepted for delivery"


async def serve(directory: Path, host: str, port: int) -> None:
    """Accept mail until SIGTERM or SIGINT."""
    directory.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = StoringHandler(directory)
    server = await loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="mailsink", loop=loop), host, port
    )
    print(f"mail sink listening on {host}:{port}, keeping mail in {directory}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def show(directory: Path, to: str | None, output: str, last: int) -> None:
    """Print the latest ``last`` messages, as text or as a JSON list of {to, subject, body}."""
    entries = messages.read(directory, to)[-last:]
    if output == "json":
        print(json.dumps([{k: e[k] for k in ("to", "subject", "body")} for e in entries], indent=2))
        return
    if not entries:
        print("no mail" + (f" to {to}" if to else ""))
    for entry in entries:
        print(f"To: {entry['to']}\nSubject: {entry['subject']}\nReceived: {entry['received_at']}\n")
        print(entry["body"].rstrip() + "\n" + "-" * 72)


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m mailsink", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_args = commands.add_parser("serve")
    serve_args.add_argument("--dir", type=Path, required=True)
    serve_args.add_argument("--host", default="127.0.0.1")
    serve_args.add_argument("--port", type=int, default=1025)
    show_args = commands.add_parser("show")
    show_args.add_argument("--dir", type=Path, required=True)
    show_args.add_argument("--to")
    show_args.add_argument("--format", choices=("text", "json"), default="text")
    show_args.add_argument("--last", type=int, default=10)
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(serve(args.dir, args.host, args.port))
    else:
        show(args.dir, args.to, args.format, args.last)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
