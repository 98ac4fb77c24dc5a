"""A webhook receiver for the end-to-end tests: verifies every delivery with
the `standardwebhooks` package and logs it as one JSON line.

Usage: python3 receiver.py LOG_FILE
Prints the port it listens on (127.0.0.1) as its first line.

POST /__secrets {"secrets": ["whsec_…", …]} sets the secrets to verify with;
each logged delivery lists the indices of the secrets that verified it.
Paths answer: /ok 200; /flaky 500 to the first attempt of each webhook-id,
then 200; /slow sleeps ?sleep=N seconds on the first attempt of each
webhook-id, then answers 200 (the sender has timed out by then); /gone 410.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from standardwebhooks.webhooks import Webhook

LOCK = threading.Lock()
SECRETS = []
SEEN = {}


def log(entry):
    with LOCK:
        with open(sys.argv[1], "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status):
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if url.path == "/__secrets":
            with LOCK:
                SECRETS[:] = json.loads(body)["secrets"]
            return self.answer(200)
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = []
        for index, secret in enumerate(list(SECRETS)):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(index)
            except Exception:  # noqa: BLE001 - any failure means "not verified"
                pass
        webhook_id = headers.get("webhook-id")
        with LOCK:
            SEEN[webhook_id] = SEEN.get(webhook_id, 0) + 1
            attempt = SEEN[webhook_id]
        status = 200
        if url.path == "/flaky" and attempt == 1:
            status = 500
        elif url.path == "/gone":
            status = 410
        log(
            {
                "path": url.path,
                "id": webhook_id,
                "timestamp": headers.get("webhook-timestamp"),
                "signatures": headers.get("webhook-signature", "").split(" "),
                "verified": verified,
                "attempt": attempt,
                "status": status,
                "body": json.loads(body),
            }
        )
        # Logged on arrival: a slow answer's attempt is on record while the
        # sender waits.
        if url.path == "/slow" and attempt == 1:
            time.sleep(float(parse_qs(url.query).get("sleep", ["3"])[0]))
        self.answer(status)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
