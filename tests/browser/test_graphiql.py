#!/usr/bin/env python3
"""Browser test of GraphiQL (`GET /graphiql`) offline, under its strict CSP.

Starts the built `rapport` binary with `serve --demo` on a temporary SQLite
file and drives Debian's headless chromium, with every host but 127.0.0.1
unresolvable (`--host-resolver-rules`), so a page that needed a CDN would stay
on "Loading":

- GraphiQL renders from the server's own assets and opens with the named
  example operations and the hint about the Headers tab;
- SignIn (the `login` mutation, with the demo admin's password put into the
  example) runs from GraphiQL and its access token goes into the Headers tab;
- Dashboard then answers customers, and a screenshot of it is saved in the
  output directory ($BROWSER_OUTPUT_DIR, default target/browser);
- the FeedbackReceived subscription, started from GraphiQL over
  `/graphql/ws` with the same header, shows a survey response submitted
  meanwhile;
- the browser logs no CSP violation and no script error.

A second server in production mode without RAPPORT_GRAPHIQL answers 404 at
/graphiql; with RAPPORT_GRAPHIQL=true it serves the page.

Environment as in test_form.py (RAPPORT_BIN, CHROMIUM_BIN, CHROMEDRIVER_BIN).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("RAPPORT_BIN", os.path.join(TARGET, "debug", "rapport"))
OUTPUT = os.environ.get("BROWSER_OUTPUT_DIR", os.path.join(TARGET, "browser"))
SECRET = "Vq7Zr2LkP9wX4mTb8NcYd3HfJ6sGa1QeU5oRi0KtWz-graphiql"
ADMIN = "admin@demo.rapport.dev"

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(base, query, variables=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(base + "/graphql", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        result = json.load(answer)
    if result.get("errors"):
        raise AssertionError(f"{query[:40]}…: {result['errors']}")
    return result["data"]


class GraphiqlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BINARY):
            raise RuntimeError(f"{BINARY} not found: run `cargo build -p api` first")
        os.makedirs(OUTPUT, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="rapport-graphiql-")
        cls.servers, cls.logs = [], []
        cls.base, log = cls.start_server("demo", ["--demo"], {})
        cls.password = cls.admin_password(log)
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
        for log in cls.logs:
            log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def start_server(cls, name, args, extra_env):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        path = os.path.join(cls.tmp, f"{name}.log")
        log = open(path, "w")
        cls.logs.append(log)
        env = dict(
            os.environ,
            DATABASE_URL=f"sqlite://{os.path.join(cls.tmp, name + '.db')}?mode=rwc",
            RAPPORT_JWT_SECRET=SECRET,
            RAPPORT_DATA_DIR=cls.tmp,
            RAPPORT_LOG="warn",
            **extra_env,
        )
        for key in ("RAPPORT_GRAPHIQL", "RAPPORT_ENV", "RAPPORT_DEMO"):
            if key not in extra_env:
                env.pop(key, None)
        server = subprocess.Popen(
            [BINARY, "serve", "--bind", f"127.0.0.1:{port}", *args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        cls.servers.append(server)
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    return base, path
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(f"server did not start; see {path}")
                time.sleep(0.2)

    @staticmethod
    def admin_password(log_path):
        with open(log_path) as f:
            found = re.search(re.escape(ADMIN) + r"\s+(\S+)", f.read())
        if not found:
            raise RuntimeError("the demo admin's password was not printed")
        return found.group(1)

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
            "--window-size=1400,1000",
            # Nothing but the server resolves: no CDN, no font service.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=cls.tmp)}",
        ):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = os.environ.get("CHROMEDRIVER_BIN", shutil.which("chromedriver") or "chromedriver")
        return webdriver.Chrome(service=Service(driver_path), options=options)

    def wait(self, condition, timeout=20):
        return WebDriverWait(self.driver, timeout).until(condition)

    def editor(self, selector):
        return f"document.querySelector({json.dumps(selector)}).CodeMirror"

    def result_text(self):
        return self.driver.execute_script(f"return {self.editor(RESULT)}.getValue()")

    def run_operation(self, name):
        """Runs one named operation of the document: ▶, then its name in the menu."""
        self.driver.execute_script(f"{self.editor(RESULT)}.setValue('')")

        def click_run(driver):
            try:
                driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
                return True
            except (StaleElementReferenceException, ElementClickInterceptedException):
                return False

        self.wait(click_run)

        def click_item(driver):
            # The menu may re-render while it opens: look again until a click lands.
            try:
                for item in driver.find_elements(By.CSS_SELECTOR, "[role=menuitem]"):
                    if item.text.strip() == name:
                        item.click()
                        return True
            except (StaleElementReferenceException, ElementClickInterceptedException):
                pass
            return False

        self.wait(click_item)

    def run_and_read(self, name):
        self.run_operation(name)
        text = self.wait(lambda d: self.result_text() or False)
        return json.loads(text)

    def browser_problems(self):
        return [
            entry for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
        ]

    def trigger_feedback(self, token):
        """Invites a demo customer to an active survey and submits an answer."""
        surveys = graphql(self.base, """query ActiveSurveys {
            surveys(status: ACTIVE, first: 10) { edges { node { id questions {
              id required kind options scaleMin scaleMax } } } } }""", token=token)
        survey = surveys["surveys"]["edges"][0]["node"]
        customers = graphql(self.base, "query SomeCustomers { customers(first: 20) { edges { node { id } } } }",
                            token=token)
        customer_ids = [edge["node"]["id"] for edge in customers["customers"]["edges"]]
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        invited = graphql(self.base, """mutation Invite($survey: ID!, $customers: [ID!]!, $expires: DateTime!) {
            inviteToSurvey(surveyId: $survey, customerIds: $customers, expiresAt: $expires) {
              invitations { token } } }""",
                          {"survey": survey["id"], "customers": customer_ids, "expires": expires}, token)
        invitation = invited["inviteToSurvey"]["invitations"][0]["token"]
        answers = []
        for question in survey["questions"]:
            kind = question["kind"]
            if kind in ("RATING", "CSI_FACTOR", "NPS"):
                answers.append({"questionId": question["id"], "rating": question["scaleMax"] or 5})
            elif kind in ("SINGLE_CHOICE", "MULTIPLE_CHOICE"):
                answers.append({"questionId": question["id"], "choices": question["options"][:1]})
            elif kind == "TEXT":
                answers.append({"questionId": question["id"], "text": "Sent while GraphiQL listened."})
        receipt = graphql(self.base, """mutation Submit($token: String!, $answers: [SurveyAnswerInput!]!) {
            submitSurveyResponse(token: $token, answers: $answers) { responseId } }""",
                          {"token": invitation, "answers": answers})
        return receipt["submitSurveyResponse"]["responseId"]

    def test_graphiql_signs_in_runs_dashboard_and_subscribes_offline(self):
        driver = self.driver
        driver.get(self.base + "/graphiql")
        self.wait(lambda d: d.execute_script(
            f"return !!document.querySelector({json.dumps(QUERY_EDITOR)})"))

        # The example document and the hint.
        document = driver.execute_script(f"return {self.editor(QUERY_EDITOR)}.getValue()")
        for expected in ("mutation SignIn", "query Dashboard", "subscription FeedbackReceived",
                         "Headers tab", "Bearer"):
            self.assertIn(expected, document)

        # Sign in from GraphiQL with the demo admin.
        driver.execute_script(
            f"const cm = {self.editor(QUERY_EDITOR)}; cm.setValue(cm.getValue().replace('<password>', arguments[0]))",
            self.password,
        )
        signed_in = self.run_and_read("SignIn")
        self.assertNotIn("errors", signed_in, signed_in)
        token = signed_in["data"]["login"]["accessToken"]
        self.assertEqual(signed_in["data"]["login"]["user"]["role"], "ADMIN")

        # The token goes into the Headers tab.
        driver.execute_script(
            f"{self.editor(HEADERS_EDITOR)}.setValue(arguments[0])",
            json.dumps({"Authorization": "Bearer " + token}, indent=2),
        )

        dashboard = self.run_and_read("Dashboard")
        self.assertNotIn("errors", dashboard, dashboard)
        edges = dashboard["data"]["customers"]["edges"]
        self.assertTrue(edges, "the demo has customers")
        self.assertTrue(all(edge["node"]["name"] for edge in edges))
        driver.save_screenshot(os.path.join(OUTPUT, "graphiql-dashboard.png"))

        # A subscription over /graphql/ws, signed in by the same header.
        self.run_operation("FeedbackReceived")
        time.sleep(1.5)  # the socket opens and subscribes
        response_id = self.trigger_feedback(token)
        text = self.wait(lambda d: self.result_text() or False)
        event = json.loads(text)
        self.assertNotIn("errors", event, event)
        self.assertEqual(event["data"]["feedbackReceived"]["id"], response_id)
        driver.save_screenshot(os.path.join(OUTPUT, "graphiql-subscription.png"))

        self.maxDiff = None
        self.assertEqual(self.browser_problems(), [])

    def test_production_serves_graphiql_only_when_asked(self):
        production = ["--env", "production"]
        off, _ = self.start_server("production", production, {})
        for path in ("/graphiql", "/graphiql/assets/graphiql.min.js"):
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(off + path, timeout=10)
            self.assertEqual(refused.exception.code, 404, path)
        on, _ = self.start_server("production-graphiql", production, {"RAPPORT_GRAPHIQL": "true"})
        with urllib.request.urlopen(on + "/graphiql", timeout=10) as page:
            self.assertEqual(page.status, 200)
            self.assertIn("default-src 'self'", page.headers["content-security-policy"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
