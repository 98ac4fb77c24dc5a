"""Steady loopback load for tests/soak/run.sh, with RSS / fd / latency sampling.

Each worker sends a fixed mix at a fixed pace (reads, a write, the health
check, a throttled public lookup) over one keep-alive connection. Every
interval one line is printed: elapsed, requests, errors, p50, p99 (ms),
RSS (KiB) and open fds of the server process. At the end the first interval
after warm-up is compared with the last: RSS within +50 %, fds within +16,
p99 within 3x (or 50 ms), and no 5xx or INTERNAL answers.
"""
import argparse
import base64
import http.client
import json
import os
import random
import sys
import threading
import time

QUERIES = [
    ("{ customers(first: 20) { edges { node { id name } } pageInfo { hasNextPage } } }", {}),
    ("{ customerCount }", {}),
    ("query($f: Date!, $t: Date!) { retentionRate(from: $f, to: $t) { ratePercent } }",
     {"f": "2025-01-01", "t": "2025-12-31"}),
    ("{ loyaltyPrograms { nodes { id name } } }", {}),
]
WRITE = ("mutation($c: ID!) { recordInteraction(input: {customerId: $c, channel: EMAIL, summary: \"soak\"}) { interaction { id } } }")


def customer_id(key):
    """The global id of demo customer `key` (base64url, unpadded, of "Customer:<key>")."""
    return base64.urlsafe_b64encode(f"Customer:{key}".encode()).decode().rstrip("=")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def percentile(samples, p):
    if not samples:
        return 0.0
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.requests = 0
        self.errors = 0
        self.bad = []

    def add(self, ms, ok, note=None):
        with self.lock:
            self.latencies.append(ms)
            self.requests += 1
            if not ok:
                self.errors += 1
                if note and len(self.bad) < 5:
                    self.bad.append(note)

    def take(self):
        with self.lock:
            out = (self.latencies, self.requests, self.errors)
            self.latencies, self.requests, self.errors = [], 0, 0
            return out


def post(conn, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request("POST", "/graphql", json.dumps(body), headers)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"{}")


def worker(args, token, stop, stats, pace):
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    rng = random.Random()
    n = 0
    while not stop.is_set():
        started = time.monotonic()
        n += 1
        try:
            if n % 10 == 0:
                conn.request("GET", "/health")
                r = conn.getresponse()
                r.read()
                ok, note = r.status == 200, f"health {r.status}"
            elif n % 10 == 5:
                status, body = post(conn, {"query": WRITE, "variables": {"c": customer_id(rng.randint(1, 300))}}, token)
                code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code")
                ok, note = status == 200 and code != "INTERNAL", f"write {status} {code}"
            elif n % 10 == 7:
                # A public lookup with a wrong token: throttled after a few, never an error.
                status, body = post(conn, {"query": "query($t: String!) { surveyInvitation(token: $t) { title } }",
                                           "variables": {"t": "x" * 43}})
                code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code")
                ok, note = status == 200 and code in ("INVALID_TOKEN", "RATE_LIMITED"), f"public {status} {code}"
            else:
                q, v = rng.choice(QUERIES)
                status, body = post(conn, {"query": q, "variables": v}, token)
                ok, note = status == 200 and "errors" not in body, f"read {status} {body.get('errors')}"
        except Exception as e:  # connection trouble counts as an error
            ok, note = False, repr(e)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        ms = (time.monotonic() - started) * 1000
        stats.add(ms, ok, note)
        time.sleep(max(0.0, pace - ms / 1000))


def main():
    ap = argparse.ArgumentParser()
    for name, kind in [("port", int), ("pid", int), ("duration", int), ("interval", int),
                       ("workers", int), ("rate", float), ("email", str), ("password", str)]:
        ap.add_argument(f"--{name}", type=kind, required=True)
    args = ap.parse_args()
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    _, body = post(conn, {"query": "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
                          "variables": {"e": args.email, "p": args.password}})
    token = body["data"]["login"]["accessToken"]
    stop, stats = threading.Event(), Stats()
    pace = args.workers / args.rate
    threads = [threading.Thread(target=worker, args=(args, token, stop, stats, pace), daemon=True)
               for _ in range(args.workers)]
    for t in threads:
        t.start()
    rows = []
    print("elapsed_s requests errors p50_ms p99_ms rss_kib fds", flush=True)
    started = time.monotonic()
    # Access tokens live 15 minutes by default; soaks longer than that re-login.
    while time.monotonic() - started < args.duration:
        time.sleep(min(args.interval, args.duration - (time.monotonic() - started)))
        lat, n, errors = stats.take()
        row = (round(time.monotonic() - started), n, errors, percentile(lat, 0.5), percentile(lat, 0.99),
               rss_kib(args.pid), fds(args.pid))
        rows.append(row)
        print("%d %d %d %.1f %.1f %d %d" % row, flush=True)
    stop.set()
    for t in threads:
        t.join(timeout=35)
    if stats.bad:
        print("examples of errors:", stats.bad)
    base = rows[1] if len(rows) > 2 else rows[0]  # the first interval is warm-up
    last = rows[-1]
    problems = []
    if sum(r[2] for r in rows):
        problems.append(f"{sum(r[2] for r in rows)} failed requests")
    if last[5] > base[5] * 1.5:
        problems.append(f"RSS grew {base[5]} -> {last[5]} KiB")
    if last[6] > base[6] + 16:
        problems.append(f"fds grew {base[6]} -> {last[6]}")
    if last[4] > max(base[4] * 3, 50):
        problems.append(f"p99 drifted {base[4]:.1f} -> {last[4]:.1f} ms")
    total = sum(r[1] for r in rows)
    print(f"summary: {total} requests in {rows[-1][0]} s; RSS {base[5]} -> {last[5]} KiB (max {max(r[5] for r in rows)}); "
          f"fds {base[6]} -> {last[6]}; p99 {base[4]:.1f} -> {last[4]:.1f} ms (max {max(r[4] for r in rows):.1f})")
    if problems:
        print("NOT FLAT:", "; ".join(problems))
        sys.exit(1)
    print("flat: memory, descriptors and p99 stable")


if __name__ == "__main__":
    main()
