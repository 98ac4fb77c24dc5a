#!/usr/bin/env python3
"""Browser test of CORS: pages on other origins calling `/graphql` with `fetch`.

Starts the built `rapport` binary twice on one temporary SQLite file:

- with the development default (no `RAPPORT_CORS_ORIGINS`): a page served from
  a second loopback port (`http://127.0.0.1:P`, and `http://localhost:P`)
  calls the API with `fetch`, POST and GET, with an `Authorization` header (so
  Chromium sends a real pre-flight) and reads the answer; a page from
  `http://127.0.0.2:P` (not in the default) is refused by the browser;
- with `RAPPORT_CORS_ORIGINS=http://127.0.0.1:P`: that page is allowed, the
  same host on another port is refused.

Pages are served by Python's http.server on their own ports; the browser is
Debian's headless chromium through chromedriver. Environment as in
test_form.py (RAPPORT_BIN, CHROMIUM_BIN, CHROMEDRIVER_BIN).
"""

import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("RAPPORT_BIN", os.path.join(TARGET, "debug", "rapport"))
SECRET = "browser-test-secret-browser-test-secret-0123"
PASSWORD = "correct horse battery staple"
EMAIL = "admin@example.com"

FETCH = """
const [url, method, token, done] = arguments;
const query = "query Me { me { email } }";
const init = { method, headers: { authorization: "Bearer " + token } };
let target = url + "/graphql";
if (method === "POST") {
  init.headers["content-type"] = "application/json";
  init.body = JSON.stringify({ query });
} else {
  target += "?query=" + encodeURIComponent(query);
}
fetch(target, init)
  .then((r) => r.json())
  .then((body) => done({ ok: true, origin: location.origin, body }),
        (e) => done({ ok: false, origin: location.origin, error: String(e) }));
"""


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Page(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_pages(directory, host, port):
    handler = functools.partial(Page, directory=directory)
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class CorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BINARY):
            raise RuntimeError(f"{BINARY} not found: run `cargo build -p api` first")
        cls.tmp = tempfile.mkdtemp(prefix="rapport-cors-")
        cls.servers, cls.pages, cls.logs = [], [], []
        cls.env = dict(
            os.environ,
            DATABASE_URL=f"sqlite://{os.path.join(cls.tmp, 'rapport.db')}?mode=rwc",
            RAPPORT_JWT_SECRET=SECRET,
            RAPPORT_DATA_DIR=cls.tmp,
            RAPPORT_LOG="warn",
        )
        cls.env.pop("RAPPORT_CORS_ORIGINS", None)
        subprocess.run(
            [BINARY, "create-user", "--email", EMAIL, "--role", "ADMIN", "--password-stdin"],
            input=PASSWORD + "\n", text=True, env=cls.env, check=True, capture_output=True,
        )
        site = os.path.join(cls.tmp, "site")
        os.mkdir(site)
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write("<!doctype html><title>A frontend on another origin</title><p>app</p>")
        cls.page_port = free_port()
        cls.other_port = free_port()
        cls.pages = [
            serve_pages(site, "127.0.0.1", cls.page_port),
            serve_pages(site, "127.0.0.1", cls.other_port),
            serve_pages(site, "127.0.0.2", cls.page_port),
        ]
        cls.default_api = cls.start_server({})
        cls.exact_api = cls.start_server({"RAPPORT_CORS_ORIGINS": f"http://127.0.0.1:{cls.page_port}"})
        cls.token = cls.login(cls.default_api)
        cls.driver = cls.start_browser()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "driver", None):
            cls.driver.quit()
        for server in cls.servers:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        for page in cls.pages:
            page.shutdown()
        for log in cls.logs:
            log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def start_server(cls, extra_env):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(cls.tmp, f"server-{port}.log"), "w")
        cls.logs.append(log)
        server = subprocess.Popen(
            [BINARY, "serve", "--bind", f"127.0.0.1:{port}"],
            env=dict(cls.env, **extra_env), stdout=log, stderr=subprocess.STDOUT,
        )
        cls.servers.append(server)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    return base
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)

    @classmethod
    def login(cls, base):
        request = urllib.request.Request(
            base + "/graphql",
            data=json.dumps({
                "query": "mutation Login($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                "variables": {"e": EMAIL, "p": PASSWORD},
            }).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["data"]["login"]["accessToken"]

    @classmethod
    def start_browser(cls):
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM_BIN", shutil.which("chromium") or "chromium")
        for arg in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=cls.tmp)}",
        ):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = os.environ.get("CHROMEDRIVER_BIN", shutil.which("chromedriver") or "chromedriver")
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        driver.set_script_timeout(20)
        return driver

    def call_from(self, page, api, method):
        """Opens `page` and runs `fetch` against `api` from it."""
        self.driver.get(page + "/index.html")
        self.assertEqual(self.driver.title, "A frontend on another origin")
        self.driver.get_log("browser")  # drain
        return self.driver.execute_async_script(FETCH, api, method, self.token)

    def assert_allowed(self, page, api, method):
        result = self.call_from(page, api, method)
        self.assertEqual(result["origin"], page)
        self.assertTrue(result["ok"], result)
        self.assertEqual(result["body"], {"data": {"me": {"email": EMAIL}}})

    def assert_refused(self, page, api, method):
        result = self.call_from(page, api, method)
        self.assertEqual(result["origin"], page)
        self.assertFalse(result["ok"], result)
        self.assertIn("Failed to fetch", result["error"])
        messages = " ".join(e.get("message", "") for e in self.driver.get_log("browser"))
        self.assertIn("blocked by CORS policy", messages)

    def test_development_default_allows_other_loopback_ports(self):
        for page in (f"http://127.0.0.1:{self.page_port}", f"http://localhost:{self.page_port}"):
            for method in ("POST", "GET"):
                with self.subTest(page=page, method=method):
                    self.assert_allowed(page, self.default_api, method)

    def test_development_default_refuses_other_origins(self):
        for method in ("POST", "GET"):
            with self.subTest(method=method):
                self.assert_refused(f"http://127.0.0.2:{self.page_port}", self.default_api, method)

    def test_exact_origins_allow_only_themselves(self):
        for method in ("POST", "GET"):
            with self.subTest(method=method):
                self.assert_allowed(f"http://127.0.0.1:{self.page_port}", self.exact_api, method)
                self.assert_refused(f"http://127.0.0.1:{self.other_port}", self.exact_api, method)
                self.assert_refused(f"http://localhost:{self.page_port}", self.exact_api, method)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2, exit=False).result.wasSuccessful() is False)
