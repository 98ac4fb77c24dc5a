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

Environment as in harness.py (RAPPORT_BIN, CHROMIUM_BIN, CHROMEDRIVER_BIN).
"""

import json
import os
import re
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import TARGET, Harness, graphql, server_env

OUTPUT = os.environ.get("BROWSER_OUTPUT_DIR", os.path.join(TARGET, "browser"))
SECRET = "Vq7Zr2LkP9wX4mTb8NcYd3HfJ6sGa1QeU5oRi0KtWz-graphiql"
ADMIN = "admin@demo.rapport.dev"

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


class GraphiqlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(OUTPUT, exist_ok=True)
        cls.harness = Harness("rapport-graphiql-")
        cls.addClassCleanup(cls.harness.close)
        cls.base, log = cls.start_server("demo", ["--demo"], {})
        cls.password = cls.admin_password(log)
        cls.driver = cls.harness.browser([
            "--window-size=1400,1000",
            # Nothing but the server resolves: no CDN, no font service.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])

    @classmethod
    def start_server(cls, name, args, extra_env):
        """A server on its own database `name`.db; returns its URL and log path."""
        env = server_env(
            cls.harness.tmp, db_name=name + ".db", secret=SECRET,
            unset=("RAPPORT_GRAPHIQL", "RAPPORT_ENV", "RAPPORT_DEMO"), **extra_env,
        )
        server = cls.harness.serve(env, args, log_name=f"{name}.log", timeout=60)
        return server.base, server.log_path

    @staticmethod
    def admin_password(log_path):
        with open(log_path) as f:
            found = re.search(re.escape(ADMIN) + r"\s+(\S+)", f.read())
        if not found:
            raise RuntimeError("the demo admin's password was not printed")
        return found.group(1)

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
            surveys(filter: { status: ACTIVE }, first: 10) { edges { node { id questions {
              id required kind options scaleMin scaleMax minChoices rows latestDate
              showWhen { questionId } } } } } }""", token=token)
        survey = surveys["surveys"]["edges"][0]["node"]
        customers = graphql(self.base, "query SomeCustomers { customers(first: 20) { edges { node { id } } } }",
                            token=token)
        customer_ids = [edge["node"]["id"] for edge in customers["customers"]["edges"]]
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        invited = graphql(self.base, """mutation Invite($survey: ID!, $customers: [ID!]!, $expires: DateTime!) {
            inviteToSurvey(input: { surveyId: $survey, customerIds: $customers, expiresAt: $expires }) {
              invitations { token } } }""",
                          {"survey": survey["id"], "customers": customer_ids, "expires": expires}, token)
        invitation = invited["inviteToSurvey"]["invitations"][0]["token"]
        answers = []
        for question in survey["questions"]:
            kind = question["kind"]
            if question["showWhen"]:
                continue  # conditional: shown only for some answers; leave it out
            if kind in ("RATING", "CSI_FACTOR", "NPS"):
                answers.append({"questionId": question["id"], "rating": question["scaleMax"] or 5})
            elif kind in ("SINGLE_CHOICE", "MULTIPLE_CHOICE"):
                answers.append({"questionId": question["id"],
                                "choices": question["options"][:question["minChoices"] or 1]})
            elif kind == "MATRIX":
                answers.append({"questionId": question["id"],
                                "rowRatings": [question["scaleMax"]] * len(question["rows"])})
            elif kind == "DATE":
                answers.append({"questionId": question["id"],
                                "date": question["latestDate"] or datetime.now(timezone.utc).strftime("%Y-%m-%d")})
            elif kind == "TEXT":
                answers.append({"questionId": question["id"], "text": "Sent while GraphiQL listened."})
        receipt = graphql(self.base, """mutation Submit($token: String!, $answers: [SurveyAnswerInput!]!) {
            submitSurveyResponse(input: { token: $token, answers: $answers }) { responseId } }""",
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
