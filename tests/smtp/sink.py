"""A real SMTP server on loopback for the e-mail tests (aiosmtpd).

Usage: sink.py PORT DIRECTORY. Accepts every message and writes it to
DIRECTORY as NNNN.json (envelope, decoded headers, text and HTML parts,
receive time); prints "ready" once it listens and stops when stdin closes.
"""

import email
import email.policy
import itertools
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_subtype()] = part.get_content()
        record = {
            "received": time.time(),
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "text": parts.get("plain"),
            "html": parts.get("html"),
        }
        number = next(self.numbers)
        temporary = os.path.join(self.directory, f".{number:04}.tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.rename(temporary, os.path.join(self.directory, f"{number:04}.json"))
        return "250 Message accepted"


def main():
    port = int(sys.argv[1])
    controller = Controller(Sink(sys.argv[2]), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
