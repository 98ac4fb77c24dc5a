#!/usr/bin/env python3
"""Browser test of conditional questions and hidden fields on the survey form
page (`GET /s/{token}`) in headless Chromium.

A published survey asks "Did anything go wrong?" (Yes/No), then "What went
wrong?" (required, shown only when the answer is "Yes"), then a rating; it
declares the hidden field `orderNumber`, and each invitation carries one.

- the dependent question is hidden at first, appears when "Yes" is chosen
  and disappears again with "No";
- a respondent who answers it and submits has the answer stored, with the
  invitation's hidden field value, which the page never shows;
- a respondent who types an answer, then switches to "No", submits without
  it: the form does not send a hidden question's answer (the server would
  refuse it) and the response has none;
- on a second survey, a question shown when a matrix's second row is rated
  at most 2 and one shown for a date in June to August 2026 appear and
  disappear as the row's rating and the date change, and the shown answers
  are stored;
- no script error or CSP violation is logged by the browser.

Screenshots (before and after the condition) go to $BROWSER_OUTPUT_DIR
(default target/browser). Environment as in harness.py.
"""

import os
import sys
import unittest
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import harness
from harness import Harness, create_user, free_port, login, server_env

OUTPUT = os.environ.get("BROWSER_OUTPUT_DIR", os.path.join(harness.TARGET, "browser"))
RESPONSES = (
    "query($s: ID!) { surveyResponses(filter: { surveyId: $s }, first: 5) "
    "{ nodes { customerId hiddenFields { key value } answers { questionId rating choices text } } } }"
)


class FormConditionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.harness = Harness("rapport-conditions-")
        cls.addClassCleanup(cls.harness.close)
        port = free_port()
        cls.base = f"http://127.0.0.1:{port}"
        env = server_env(cls.harness.tmp)
        create_user(env, "admin@example.com")
        cls.harness.serve(env, ["--public-url", cls.base], port=port)
        cls.token = login(cls.base, "admin@example.com")
        survey = cls.gql(
            "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id questions { id } } } }",
            {
                "input": {
                    "title": "After your trip",
                    "hiddenFields": ["orderNumber"],
                    "questions": [
                        {"text": "Did anything go wrong?", "kind": "SINGLE_CHOICE", "required": True,
                         "options": ["Yes", "No"]},
                        {"text": "What went wrong?", "kind": "TEXT", "required": True,
                         "showWhen": {"questionPosition": 1, "equals": "Yes"}},
                        {"text": "Overall satisfaction", "kind": "RATING", "required": True},
                    ],
                }
            },
        )["createSurvey"]["survey"]
        cls.survey_id = survey["id"]
        cls.questions = [q["id"] for q in survey["questions"]]
        cls.gql("mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }", {"id": cls.survey_id})
        rated = cls.gql(
            "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id questions { id } } } }",
            {
                "input": {
                    "title": "Your visit",
                    "questions": [
                        {"text": "How do you rate …", "kind": "MATRIX", "required": True,
                         "rows": ["the staff", "the price"]},
                        {"text": "What was wrong with the price?", "kind": "TEXT", "required": True,
                         "showWhen": {"questionPosition": 1, "matrixRow": 2, "ratingMax": 2}},
                        {"text": "When did you visit?", "kind": "DATE"},
                        {"text": "How was the summer?", "kind": "TEXT", "required": True,
                         "showWhen": {"questionPosition": 3, "dateAfter": "2026-05-31",
                                      "dateBefore": "2026-09-01"}},
                    ],
                }
            },
        )["createSurvey"]["survey"]
        cls.rated_id = rated["id"]
        cls.rated = [q["id"] for q in rated["questions"]]
        cls.gql("mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }", {"id": cls.rated_id})
        cls.driver = cls.harness.browser(["--window-size=412,915"])

    @classmethod
    def gql(cls, query, variables):
        return harness.graphql(cls.base, query, variables, cls.token)

    def invite(self, name, order_number):
        customer = self.gql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }",
            {"input": {"name": name}},
        )["createCustomer"]["customer"]["id"]
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        invited = self.gql(
            "mutation($s: ID!, $c: [ID!]!, $e: DateTime!, $h: [RecipientHiddenFieldsInput!]) { inviteToSurvey(input: "
            "{ surveyId: $s, customerIds: $c, expiresAt: $e, hiddenFields: $h }) { invitations { formUrl } } }",
            {"s": self.survey_id, "c": [customer], "e": expires,
             "h": [{"customerId": customer, "values": [{"key": "orderNumber", "value": order_number}]}]},
        )["inviteToSurvey"]["invitations"][0]
        return customer, invited["formUrl"]

    def wait(self, condition, timeout=15):
        return WebDriverWait(self.driver, timeout).until(condition)

    def open_form(self, url):
        self.driver.get(url)
        return self.wait(EC.visibility_of_element_located((By.ID, "form")))

    def choose(self, option):
        labels = self.driver.find_elements(By.CSS_SELECTOR, f"#question-{self.questions[0]} label")
        next(label for label in labels if label.text == option).click()

    def dependent(self):
        return self.driver.find_element(By.ID, f"question-{self.questions[1]}")

    def rate(self, value):
        self.driver.find_element(
            By.CSS_SELECTOR, f"input[name='q{self.questions[2]}'][value='{value}']"
        ).find_element(By.XPATH, "..").click()

    def submit(self):
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait(lambda d: d.find_element(By.ID, "status").get_attribute("data-code") == "SUBMITTED")

    def screenshot(self, name):
        os.makedirs(OUTPUT, exist_ok=True)
        self.driver.save_screenshot(os.path.join(OUTPUT, f"form-conditions-{name}.png"))

    def stored(self, customer):
        nodes = self.gql(RESPONSES, {"s": self.survey_id})["surveyResponses"]["nodes"]
        return next(n for n in nodes if n["customerId"] == customer)

    def test_the_dependent_question_follows_the_answer_and_is_submitted(self):
        customer, url = self.invite("Ann Example", "A-4711")
        self.open_form(url)
        self.assertFalse(self.dependent().is_displayed())
        self.screenshot("before")
        self.choose("Yes")
        self.wait(lambda d: self.dependent().is_displayed())
        self.screenshot("shown")
        self.choose("No")
        self.wait(lambda d: not self.dependent().is_displayed())
        self.choose("Yes")
        self.wait(lambda d: self.dependent().is_displayed())
        self.driver.find_element(By.CSS_SELECTOR, f"textarea[name='q{self.questions[1]}']").send_keys("The bus was late")
        self.rate(2)
        self.assertNotIn("A-4711", self.driver.page_source)
        self.submit()

        response = self.stored(customer)
        self.assertEqual(response["hiddenFields"], [{"key": "orderNumber", "value": "A-4711"}])
        answers = {a["questionId"]: a for a in response["answers"]}
        self.assertEqual(answers[self.questions[0]]["choices"], ["Yes"])
        self.assertEqual(answers[self.questions[1]]["text"], "The bus was late")
        self.assertEqual(answers[self.questions[2]]["rating"], 2)
        self.assert_no_browser_errors()

    def test_a_hidden_answer_is_not_sent(self):
        customer, url = self.invite("Bob Example", "B-815")
        self.open_form(url)
        self.choose("Yes")
        self.wait(lambda d: self.dependent().is_displayed())
        self.driver.find_element(By.CSS_SELECTOR, f"textarea[name='q{self.questions[1]}']").send_keys("Nothing, really")
        self.choose("No")
        self.wait(lambda d: not self.dependent().is_displayed())
        self.rate(5)
        self.submit()

        response = self.stored(customer)
        self.assertEqual(response["hiddenFields"], [{"key": "orderNumber", "value": "B-815"}])
        self.assertEqual(
            sorted(a["questionId"] for a in response["answers"]),
            sorted([self.questions[0], self.questions[2]]),
        )
        self.assert_no_browser_errors()

    def test_matrix_row_and_date_conditions_follow_the_answers(self):
        d = self.driver
        customer = self.gql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }",
            {"input": {"name": "Cem Example"}},
        )["createCustomer"]["customer"]["id"]
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = self.gql(
            "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: "
            "{ surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { formUrl } } }",
            {"s": self.rated_id, "c": [customer], "e": expires},
        )["inviteToSurvey"]["invitations"][0]["formUrl"]
        self.open_form(url)
        q = self.rated
        price = lambda: d.find_element(By.ID, f"question-{q[1]}")
        summer = lambda: d.find_element(By.ID, f"question-{q[3]}")

        def rate_row(row, value):
            d.find_element(By.CSS_SELECTOR, f"input[name='q{q[0]}-r{row}'][value='{value}']") \
                .find_element(By.XPATH, "..").click()

        def visit(day):
            d.execute_script(
                "arguments[0].value = arguments[1];"
                " arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                d.find_element(By.CSS_SELECTOR, f"input[name='q{q[2]}']"), day,
            )

        self.assertFalse(price().is_displayed() or summer().is_displayed())
        rate_row(0, 1)
        self.assertFalse(price().is_displayed(), "row 1 is not the row tested")
        rate_row(1, 2)
        self.wait(lambda dr: price().is_displayed())
        rate_row(1, 4)
        self.wait(lambda dr: not price().is_displayed())
        rate_row(1, 1)
        self.wait(lambda dr: price().is_displayed())
        visit("2026-07-01")
        self.wait(lambda dr: summer().is_displayed())
        visit("2026-09-01")
        self.wait(lambda dr: not summer().is_displayed())
        visit("2026-08-31")
        self.wait(lambda dr: summer().is_displayed())
        self.screenshot("matrix-date")
        d.find_element(By.CSS_SELECTOR, f"textarea[name='q{q[1]}']").send_keys("Too dear")
        d.find_element(By.CSS_SELECTOR, f"textarea[name='q{q[3]}']").send_keys("Sunny")
        self.submit()

        nodes = self.gql(RESPONSES, {"s": self.rated_id})["surveyResponses"]["nodes"]
        response = next(n for n in nodes if n["customerId"] == customer)
        answers = {a["questionId"]: a for a in response["answers"]}
        self.assertEqual(sorted(answers), sorted(q))
        self.assertEqual(answers[q[1]]["text"], "Too dear")
        self.assertEqual(answers[q[3]]["text"], "Sunny")
        self.assert_no_browser_errors()

    def assert_no_browser_errors(self):
        severe = [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]
        self.assertEqual(severe, [], severe)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2, exit=False).result.wasSuccessful() is False)
