"""Shared set-up for the browser tests: the built `rapport` binary run as a
server on a free loopback port, an admin account, a GraphQL client, and
Debian's headless chromium driven through chromedriver.

Environment: RAPPORT_BIN (default: $CARGO_TARGET_DIR or ./target, /debug/rapport),
CHROMIUM_BIN (default: chromium), CHROMEDRIVER_BIN (default: chromedriver).
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import namedtuple

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("RAPPORT_BIN", os.path.join(TARGET, "debug", "rapport"))
SECRET = "browser-test-secret-browser-test-secret-0123"
PASSWORD = "correct horse battery staple"
LOGIN = "mutation Login($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }"

AXE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_modules", "axe-core", "axe.min.js")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OUTPUT = os.environ.get("BROWSER_OUTPUT_DIR", os.path.join(TARGET, "browser"))
"""Where screenshots go."""

Server = namedtuple("Server", "base process log log_path")
"""One running `rapport serve`: its URL, process, open log file and the log's path."""


def free_port(host="127.0.0.1"):
    """A port on `host` that was free a moment ago."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def server_env(tmp, db_name="rapport.db", secret=SECRET, log="warn", unset=(), **extra):
    """The environment of a server on the SQLite file `db_name` in `tmp`.

    Variables named in `unset` are removed from the inherited environment
    unless `extra` sets them.
    """
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{os.path.join(tmp, db_name)}?mode=rwc",
        RAPPORT_JWT_SECRET=secret,
        RAPPORT_DATA_DIR=tmp,
        RAPPORT_LOG=log,
        **extra,
    )
    for key in unset:
        if key not in extra:
            env.pop(key, None)
    return env


def create_user(env, email, password=PASSWORD, role="ADMIN"):
    """Creates an account with `rapport create-user --password-stdin`."""
    subprocess.run(
        [BINARY, "create-user", "--email", email, "--role", role, "--password-stdin"],
        input=password + "\n", text=True, env=env, check=True, capture_output=True,
    )


def post(base, query, variables=None, token=None):
    """POSTs one GraphQL request to `base` and returns the whole answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(base + "/graphql", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def gid(type_name, key):
    """The API's global id of record `key` of GraphQL type `type_name`."""
    raw = f"{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def graphql(base, query, variables=None, token=None):
    """POSTs one GraphQL request and returns its `data`; GraphQL errors fail."""
    result = post(base, query, variables, token)
    if result.get("errors"):
        raise AssertionError(f"{query[:40]}…: {result['errors']}")
    return result["data"]


def login(base, email, password=PASSWORD):
    """Signs in through the `login` mutation and returns the access token."""
    return graphql(base, LOGIN, {"e": email, "p": password})["login"]["accessToken"]


class Harness:
    """A temporary directory with the servers and the browser started in it;
    `close` stops them all and removes the directory."""

    def __init__(self, prefix):
        if not os.path.exists(BINARY):
            raise RuntimeError(f"{BINARY} not found: run `cargo build -p api` first")
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.servers = []
        self.driver = None

    def serve(self, env, args=(), port=None, log_name=None, timeout=30):
        """Starts `rapport serve` on `port` (default: a free one) with `args`
        and waits until `/health` answers."""
        port = port or free_port()
        base = f"http://127.0.0.1:{port}"
        path = os.path.join(self.tmp, log_name or f"server-{port}.log")
        log = open(path, "w")
        process = subprocess.Popen(
            [BINARY, "serve", "--bind", f"127.0.0.1:{port}", *args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        server = Server(base, process, log, path)
        self.servers.append(server)
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    return server
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError(f"server did not start; see {path}")
                time.sleep(0.2)

    def browser(self, extra_args=()):
        """Starts headless chromium, with the browser log kept, plus `extra_args`
        (window size, host resolver rules)."""
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM_BIN", shutil.which("chromium") or "chromium")
        for arg in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-dev-shm-usage",
            *extra_args,
            f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=self.tmp)}",
        ):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = os.environ.get("CHROMEDRIVER_BIN", shutil.which("chromedriver") or "chromedriver")
        self.driver = webdriver.Chrome(service=Service(driver_path), options=options)
        return self.driver

    def close(self):
        """Quits the browser, stops the servers and removes the directory."""
        if self.driver:
            self.driver.quit()
        for server in self.servers:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
            server.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def axe_source():
    """axe-core's script (installed by `npm ci`, as run.sh does); makes the
    screenshot folder too."""
    if not os.path.exists(AXE_PATH):
        raise RuntimeError(f"{AXE_PATH} missing: run `npm ci` in tests/browser (run.sh does)")
    os.makedirs(OUTPUT, exist_ok=True)
    with open(AXE_PATH, encoding="utf-8") as f:
        return f.read()


def axe_violations(driver, source):
    """axe-core's WCAG 2.1 AA violations on the current page, one line each."""
    driver.execute_script(source)
    return driver.execute_async_script(
        """
        var done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: "tag", values: arguments[0] }, resultTypes: ["violations"] })
          .then(function (r) {
            done(r.violations.map(function (v) {
              return v.id + " (" + v.impact + "): " + v.nodes.map(function (n) {
                return n.target.join(" ") + " " + n.failureSummary;
              }).join(" | ");
            }));
          })
          .catch(function (e) { done(["axe failed: " + e]); });
        """,
        WCAG_AA,
    )


def set_width(driver, width):
    """Emulates a viewport `width` pixels wide; returns the page's innerWidth."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    return driver.execute_script("return window.innerWidth")


def screenshot(driver, name):
    """The whole page as OUTPUT/<name>.png."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    with open(os.path.join(OUTPUT, f"{name}.png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
