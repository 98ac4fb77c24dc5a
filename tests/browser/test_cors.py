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
harness.py (RAPPORT_BIN, CHROMIUM_BIN, CHROMEDRIVER_BIN).
"""

import functools
import http.server
import os
import sys
import threading
import unittest

from harness import Harness, create_user, free_port, login, server_env

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
        cls.harness = Harness("rapport-cors-")
        cls.addClassCleanup(cls.harness.close)
        cls.pages = []
        cls.addClassCleanup(lambda: [page.shutdown() for page in cls.pages])
        cls.env = server_env(cls.harness.tmp, unset=("RAPPORT_CORS_ORIGINS",))
        create_user(cls.env, EMAIL)
        site = os.path.join(cls.harness.tmp, "site")
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
        cls.default_api = cls.harness.serve(cls.env).base
        cls.exact_api = cls.harness.serve(
            dict(cls.env, RAPPORT_CORS_ORIGINS=f"http://127.0.0.1:{cls.page_port}")
        ).base
        cls.token = login(cls.default_api, EMAIL)
        cls.driver = cls.harness.browser()
        cls.driver.set_script_timeout(20)

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
