#!/usr/bin/env python3
"""Browser test of the survey form page (`GET /s/{token}`) in headless Chromium.

Starts the built `rapport` binary on a free port with a temporary SQLite file,
creates an admin with `rapport create-user --password-stdin`, sets up a
published survey, a customer, a loyalty programme and an invitation, then
drives Debian's chromium through chromedriver:

- the page renders every question kind, and survey text that looks like HTML
  is shown literally (no markup, no script run);
- submitting without the required answer shows the error next to the question
  and stores nothing;
- a complete submission shows the points earned; the stored text is literal;
- reopening the link shows "already answered"; an unknown token shows
  "not valid"; no script error or CSP violation is logged by the browser;
- the invitation token never appears in the server's log.

Environment as in harness.py (RAPPORT_BIN, CHROMIUM_BIN, CHROMEDRIVER_BIN).
"""

import os
import sqlite3
import sys
import unittest
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import harness
from harness import Harness, create_user, free_port, login, server_env

TITLE = '<b>Flight</b> & "Co" <script>window.__pwned = 1</script>'
NASTY = "<img src=x onerror=\"window.__pwned=2\">'); DROP TABLE surveys; --"


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class FormPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.harness = Harness("rapport-browser-")
        cls.addClassCleanup(cls.harness.close)
        cls.tmp = cls.harness.tmp
        cls.db_path = os.path.join(cls.tmp, "rapport.db")
        port = free_port()
        cls.base = f"http://127.0.0.1:{port}"
        env = server_env(cls.tmp, log="info")
        create_user(env, "admin@example.com")
        cls.server = cls.harness.serve(env, ["--public-url", cls.base], port=port, log_name="server.log")
        cls.token = login(cls.base, "admin@example.com")
        cls.setup_survey()
        cls.driver = cls.harness.browser(["--window-size=412,915"])

    # ------------------------------------------------------------ helpers

    @classmethod
    def post(cls, query, variables, token=None):
        return harness.post(cls.base, query, variables, token)

    @classmethod
    def gql(cls, query, variables, token=None):
        return harness.graphql(cls.base, query, variables, token)

    @classmethod
    def sql(cls, statement, params=()):
        """Arranges rows owned by other areas when their mutations are not available."""
        with sqlite3.connect(cls.db_path, timeout=10) as conn:
            return conn.execute(statement, params).lastrowid

    @classmethod
    def create_customer(cls, name):
        body = cls.post(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }",
            {"input": {"name": name}},
            cls.token,
        )
        if not body.get("errors"):
            return body["data"]["createCustomer"]["customer"]["id"]
        now = now_iso()
        return harness.gid("Customer", cls.sql(
            "INSERT INTO customers (name, relationship_stage, acquired_at, marketing_consent, created_at, updated_at) "
            "VALUES (?, 'COMMITMENT', ?, 0, ?, ?)",
            (name, now, now, now),
        ))

    @classmethod
    def create_program(cls):
        now = now_iso()
        return str(cls.sql(
            "INSERT INTO loyalty_programs (name, currency, points_per_currency_unit, referral_bonus_points, "
            "referral_window_days, birthday_bonus_points, created_at, updated_at) "
            "VALUES ('Frequent Flyer', 'EUR', '1', 0, 30, 0, ?, ?)",
            (now, now),
        ))

    @classmethod
    def setup_survey(cls):
        program_id = cls.create_program()
        survey = cls.gql(
            "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id questions { id kind } } } }",
            {
                "input": {
                    "title": TITLE,
                    "description": "Two minutes. <i>Thank you!</i>",
                    "loyaltyProgramId": harness.gid("LoyaltyProgram", program_id),
                    "incentivePoints": 25,
                    "questions": [
                        {"text": "Overall satisfaction <3", "kind": "RATING", "required": True},
                        {"text": "Would you recommend us?", "kind": "NPS"},
                        {"text": "Cabin", "kind": "SINGLE_CHOICE", "options": ["Economy", "<Business>"]},
                        {"text": "Used", "kind": "MULTIPLE_CHOICE", "options": ["Wifi", "Lounge", "Meals"]},
                        {"text": "Anything else?", "kind": "TEXT", "maxLength": 500},
                    ],
                }
            },
            cls.token,
        )["createSurvey"]["survey"]
        cls.survey_id = survey["id"]
        cls.questions = [q["id"] for q in survey["questions"]]
        cls.gql("mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }", {"id": cls.survey_id}, cls.token)
        customer = cls.create_customer("Ann Example")
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        invited = cls.gql(
            "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { token formUrl } } }",
            {"s": cls.survey_id, "c": [customer], "e": expires},
            cls.token,
        )["inviteToSurvey"]["invitations"][0]
        cls.form_url = invited["formUrl"]
        cls.invitation_token = invited["token"]
        assert cls.form_url == f"{cls.base}/s/{invited['token']}", cls.form_url

    def wait(self, condition, timeout=15):
        return WebDriverWait(self.driver, timeout).until(condition)

    def status_text(self):
        return self.driver.find_element(By.ID, "status").text

    def open_form(self, url):
        self.driver.get(url)
        self.wait(lambda d: d.find_element(By.ID, "status").text != "Loading the survey…")

    # ------------------------------------------------------------ the test

    def test_respondent_answers_through_the_form_page(self):
        d = self.driver
        self.open_form(self.form_url)
        form = self.wait(EC.visibility_of_element_located((By.ID, "form")))

        # Survey text is shown literally: no markup, no script ran.
        self.assertEqual(d.find_element(By.ID, "title").text, TITLE)
        self.assertEqual(d.title, TITLE)
        self.assertIsNone(d.execute_script("return window.__pwned"))
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, "#title b, #title script, .intro i")), 0)
        self.assertIn("Two minutes. <i>Thank you!</i>", form.text)
        self.assertIn("earn 25 loyalty points", form.text)
        self.assertIn("<Business>", form.text)
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, "fieldset")), 5)
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, f"input[name='q{self.questions[1]}']")), 11)

        # The required question left out: the error shows next to it; nothing stored.
        d.find_element(By.CSS_SELECTOR, f"input[name='q{self.questions[1]}'][value='9']").find_element(By.XPATH, "..").click()
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        error = self.wait(lambda dr: dr.find_element(By.ID, f"error-{self.questions[0]}").text or False)
        self.assertEqual(error, "Please answer this question.")
        self.assertIn("invalid", d.find_element(By.ID, f"question-{self.questions[0]}").get_attribute("class"))
        self.assertEqual(self.response_count(), 0)

        # Answer everything and submit.
        d.find_element(By.CSS_SELECTOR, f"input[name='q{self.questions[0]}'][value='5']").find_element(By.XPATH, "..").click()
        labels = d.find_elements(By.CSS_SELECTOR, f"#question-{self.questions[2]} label")
        next(l for l in labels if l.text == "<Business>").click()
        for label in d.find_elements(By.CSS_SELECTOR, f"#question-{self.questions[3]} label"):
            if label.text in ("Wifi", "Meals"):
                label.click()
        d.find_element(By.CSS_SELECTOR, f"textarea[name='q{self.questions[4]}']").send_keys(NASTY)
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait(lambda dr: dr.find_element(By.ID, "status").get_attribute("data-code") == "SUBMITTED")
        self.assertIn("You earned 25 points", self.status_text())
        self.assertFalse(d.find_element(By.ID, "form").is_displayed())
        self.assertIsNone(d.execute_script("return window.__pwned"))

        # Stored literally.
        stored = self.gql(
            "query($s: ID!) { surveyResponses(filter: { surveyId: $s }, first: 5) { edges { node { answers { questionId rating choices text } } } } }",
            {"s": self.survey_id},
            self.token,
        )["surveyResponses"]["edges"]
        self.assertEqual(len(stored), 1)
        answers = {a["questionId"]: a for a in stored[0]["node"]["answers"]}
        self.assertEqual(answers[self.questions[0]]["rating"], 5)
        self.assertEqual(answers[self.questions[1]]["rating"], 9)
        self.assertEqual(answers[self.questions[2]]["choices"], ["<Business>"])
        self.assertEqual(sorted(answers[self.questions[3]]["choices"]), ["Meals", "Wifi"])
        self.assertEqual(answers[self.questions[4]]["text"], NASTY)

        # Reopening the link: already answered.
        self.open_form(self.form_url)
        self.assertIn("already answered", self.status_text())
        self.assertFalse(d.find_element(By.ID, "form").is_displayed())

        # An unknown token: a clear message.
        self.open_form(f"{self.base}/s/{'A' * 43}")
        self.assertIn("not valid", self.status_text())

        # No CSP violations or script errors were logged.
        severe = [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and "/graphql" not in e.get("message", "")]
        self.assertEqual(severe, [], severe)

    def test_tokens_never_reach_the_server_log(self):
        self.open_form(self.form_url)
        self.server.log.flush()
        with open(self.server.log_path) as f:
            log = f.read()
        self.assertNotIn(self.invitation_token, log)

    def response_count(self):
        with sqlite3.connect(self.db_path, timeout=10) as conn:
            return conn.execute("SELECT COUNT(*) FROM survey_responses").fetchone()[0]


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2, exit=False).result.wasSuccessful() is False)
