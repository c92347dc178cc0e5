"""`python -m returns_app.mailcatcher --port N`: the development mail catcher run.py starts.

An SMTP server on loopback (aiosmtpd) that accepts every message and delivers none: emails
written in development never reach a real person. `/dev/mail` shows what was sent."""

from __future__ import annotations

import argparse
import asyncio
import signal
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller


class Catcher:
    """aiosmtpd's handler: note each message on stdout and keep the last ones in memory."""

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content or envelope.content,
                                     policy=default)
        self.messages = [*self.messages[-(self.keep - 1):], message]
        print(f"mail catcher: to {', '.join(envelope.rcpt_tos)}: {message['Subject']}",
              flush=True)
        return "250 Message accepted for delivery"


def serve(host: str, port: int) -> None:
    controller = Controller(Catcher(), hostname=host, port=port)
    controller.start()
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        loop.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args(argv)
    print(f"mail catcher: listening on {args.host}:{args.port}", flush=True)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
