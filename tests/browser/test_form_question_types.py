#!/usr/bin/env python3
"""Browser test of every answerable question type and of pages on the survey
form page (`GET /s/{token}`) in headless Chromium, for an English, a German
and a Greek survey at 1280 px and 390 px.

Each survey has three pages: (1) a required RATING with its own scale end
labels, an NPS question (the catalogue's end labels) and a CSI_FACTOR
question of a published factor set on a 1..7 scale; (2) SINGLE_CHOICE,
MULTIPLE_CHOICE with minChoices 2 / maxChoices 3, and a required MATRIX of
three statements (translated labels in the survey's own language); (3) a
required DATE within 2026 and a TEXT question.

For each language the test checks, at both widths:
- one page is shown at a time, with the catalogue's progress text
  ("Page 1 of 3", "Seite 1 von 3", "Σελίδα 1 από 3"), Back and Next;
- the RATING's own end labels sit under its end buttons, the NPS row shows
  the catalogue's;
- Next refuses a page whose required question is unanswered (the
  catalogue's error next to it) and nothing is stored;
- the multiple choice shows its limits ("Choose 2 to 3 options", "Wählen
  Sie 2 bis 3 Optionen", …) as a hint that describes the group, and Next
  refuses one or four options with that text as the question's error
  (role=alert) and its check boxes marked aria-invalid;
- the NPS row's eleven buttons share one line (equal bounding-rect tops),
  as do the CSI factor's seven, each matrix statement's five buttons share one line, and nothing scrolls
  sideways at 390 px;
- axe-core (WCAG 2.1 AA) finds no violation on any page, nor on the thanks;
- the form is filled by clicks (the date through its input's value) and
  submitted; the stored answers are exactly what was chosen.

Full-page screenshots of every page at both widths go to $BROWSER_OUTPUT_DIR
(default target/browser) as `types-<lang>-<page>-<width>.png`. Environment as
in harness.py; axe-core from tests/browser/node_modules (`npm ci`).
"""

import sys
import unittest
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import harness
from harness import Harness, create_user, free_port, login, server_env

WIDTHS = (1280, 390)

SURVEYS = {
    "en": {
        "title": "Your stay with us",
        "questions": [
            "How satisfied are you overall?",
            "How likely are you to recommend us?",
            "How clean was your room?",
            "How did you book?",
            "What mattered most? (two or three)",
            "How do you rate …",
            "When did you arrive?",
            "Anything else?",
        ],
        "ends": ("Very poor", "Excellent"),
        "nps_low": "Not at all likely",
        "hint": "Choose 2 to 3 options.",
        "options": [["Online", "By phone", "At the desk"], ["Price", "Location", "Staff", "Breakfast"]],
        "rows": ["the room", "the breakfast", "the staff"],
        "progress": ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"],
        "required": "Please answer this question.",
        "back": "Back",
        "next": "Next",
        "submit": "Send my answers",
    },
    "de": {
        "title": "Ihr Aufenthalt bei uns",
        "questions": [
            "Wie zufrieden sind Sie insgesamt?",
            "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?",
            "Wie sauber war Ihr Zimmer?",
            "Wie haben Sie gebucht?",
            "Was war Ihnen am wichtigsten? (zwei oder drei)",
            "Wie bewerten Sie …",
            "Wann sind Sie angereist?",
            "Möchten Sie uns noch etwas sagen?",
        ],
        "ends": ("Sehr schlecht", "Ausgezeichnet"),
        "nps_low": "Überhaupt nicht wahrscheinlich",
        "hint": "Wählen Sie 2 bis 3 Optionen.",
        "options": [["Online", "Telefonisch", "An der Rezeption"], ["Preis", "Lage", "Personal", "Frühstück"]],
        "rows": ["das Zimmer", "das Frühstück", "das Personal"],
        "progress": ["Seite 1 von 3", "Seite 2 von 3", "Seite 3 von 3"],
        "required": "Bitte beantworten Sie diese Frage.",
        "back": "Zurück",
        "next": "Weiter",
        "submit": "Antworten senden",
    },
    "el": {
        "title": "Η διαμονή σας σε εμάς",
        "questions": [
            "Πόσο ικανοποιημένοι είστε συνολικά;",
            "Πόσο πιθανό είναι να μας συστήσετε;",
            "Πόσο καθαρό ήταν το δωμάτιό σας;",
            "Πώς κάνατε την κράτηση;",
            "Τι μετρούσε περισσότερο; (δύο ή τρία)",
            "Πώς αξιολογείτε …",
            "Πότε φτάσατε;",
            "Θέλετε να μας πείτε κάτι άλλο;",
        ],
        "ends": ("Πολύ κακή", "Εξαιρετική"),
        "nps_low": "Καθόλου πιθανό",
        "hint": "Επιλέξτε από 2 έως 3 απαντήσεις.",
        "options": [["Διαδικτυακά", "Τηλεφωνικά", "Στη ρεσεψιόν"], ["Τιμή", "Τοποθεσία", "Προσωπικό", "Πρωινό"]],
        "rows": ["το δωμάτιο", "το πρωινό", "το προσωπικό"],
        "progress": ["Σελίδα 1 από 3", "Σελίδα 2 από 3", "Σελίδα 3 από 3"],
        "required": "Παρακαλούμε απαντήστε σε αυτή την ερώτηση.",
        "back": "Πίσω",
        "next": "Επόμενο",
        "submit": "Αποστολή απαντήσεων",
    },
}

STORED = (
    "query($s: ID!) { surveyResponses(filter: { surveyId: $s }, first: 5) "
    "{ nodes { answers { questionId rating choices text rowRatings date } } } }"
)


class FormQuestionTypesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.axe_source = harness.axe_source()
        cls.harness = Harness("rapport-question-types-")
        cls.addClassCleanup(cls.harness.close)
        port = free_port()
        cls.base = f"http://127.0.0.1:{port}"
        env = server_env(cls.harness.tmp)
        create_user(env, "admin@example.com")
        cls.harness.serve(env, ["--public-url", cls.base], port=port)
        cls.token = login(cls.base, "admin@example.com")
        cls.factor_set = cls.published_factor_set()
        cls.surveys = {lang: cls.create_survey(lang) for lang in SURVEYS}
        cls.driver = cls.harness.browser(["--window-size=1280,900", "--hide-scrollbars"])
        cls.driver.set_script_timeout(60)

    @classmethod
    def gql(cls, query, variables):
        return harness.graphql(cls.base, query, variables, cls.token)

    @classmethod
    def published_factor_set(cls):
        """A published CSI factor set on a 1..7 scale; returns its id."""
        created = cls.gql(
            "mutation($input: CreateCsiFactorSetInput!) { createCsiFactorSet(input: $input) "
            "{ factorSet { id } } }",
            {"input": {"name": "Hotel stay", "scaleMin": 1, "scaleMax": 7, "factors": [
                {"key": "cleanliness", "label": "Cleanliness", "weight": "0.6"},
                {"key": "staff", "label": "Staff", "weight": "0.4"},
            ]}},
        )["createCsiFactorSet"]["factorSet"]["id"]
        published = cls.gql(
            "mutation($id: ID!) { publishCsiFactorSet(input: { id: $id }) { factorSet { id status } } }",
            {"id": created},
        )["publishCsiFactorSet"]["factorSet"]
        assert published["status"] == "PUBLISHED", published
        return published["id"]

    @classmethod
    def create_survey(cls, lang):
        spec = SURVEYS[lang]
        q = spec["questions"]
        survey = cls.gql(
            "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id questions { id } } } }",
            {"input": {
                "title": spec["title"],
                "locale": lang,
                "factorSetId": cls.factor_set,
                "questions": [
                    {"text": q[0], "kind": "RATING", "required": True,
                     "minLabel": spec["ends"][0], "maxLabel": spec["ends"][1]},
                    {"text": q[1], "kind": "NPS"},
                    {"text": q[2], "kind": "CSI_FACTOR", "factorKey": "cleanliness"},
                    {"text": q[3], "kind": "SINGLE_CHOICE", "options": spec["options"][0], "page": 2},
                    {"text": q[4], "kind": "MULTIPLE_CHOICE", "options": spec["options"][1],
                     "minChoices": 2, "maxChoices": 3, "page": 2},
                    {"text": q[5], "kind": "MATRIX", "rows": spec["rows"], "required": True, "page": 2},
                    {"text": q[6], "kind": "DATE", "required": True, "earliestDate": "2026-01-01",
                     "latestDate": "2026-12-31", "page": 3},
                    {"text": q[7], "kind": "TEXT", "maxLength": 500, "page": 3},
                ],
            }},
        )["createSurvey"]["survey"]
        published = cls.gql(
            "mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }", {"id": survey["id"]}
        )["publishSurvey"]["survey"]
        assert published["status"] == "ACTIVE", published
        return {"id": survey["id"], "questions": [x["id"] for x in survey["questions"]]}

    def invite(self, lang):
        customer = self.gql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }",
            {"input": {"name": f"Guest {lang}"}},
        )["createCustomer"]["customer"]["id"]
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.gql(
            "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: "
            "{ surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { formUrl } } }",
            {"s": self.surveys[lang]["id"], "c": [customer], "e": expires},
        )["inviteToSurvey"]["invitations"][0]["formUrl"]

    def stored(self, lang):
        nodes = self.gql(STORED, {"s": self.surveys[lang]["id"]})["surveyResponses"]["nodes"]
        return [{a["questionId"]: a for a in n["answers"]} for n in nodes]

    # ------------------------------------------------------------ browser helpers

    def wait(self, condition, timeout=15):
        return WebDriverWait(self.driver, timeout).until(condition)

    def use_width(self, width):
        self.assertEqual(harness.set_width(self.driver, width), width)

    def screenshot(self, name):
        harness.screenshot(self.driver, f"types-{name}")

    def axe_violations(self):
        return harness.axe_violations(self.driver, self.axe_source)

    def tops(self, selector):
        return self.driver.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll(arguments[0]),"
            " function (e) { return Math.round(e.getBoundingClientRect().top); });",
            selector,
        )

    def check_page(self, lang, page):
        """At both widths: the layout, a screenshot and no axe violation."""
        d = self.driver
        q = self.surveys[lang]["questions"]
        for width in WIDTHS:
            self.use_width(width)
            scroll = d.execute_script("return document.documentElement.scrollWidth")
            self.assertEqual(scroll, width, f"{lang} page {page} at {width} px: no horizontal scrolling")
            if page == 1:
                nps = self.tops(f"#question-{q[1]} .scale label")
                self.assertEqual(len(nps), 11)
                self.assertEqual(len(set(nps)), 1, f"{lang} at {width} px: the NPS row on one line: {nps}")
                factor = self.tops(f"#question-{q[2]} .scale label")
                self.assertEqual(len(factor), 7)
                self.assertEqual(len(set(factor)), 1, f"{lang} at {width} px: the factor row on one line")
            if page == 2:
                for i in range(3):
                    row = self.tops(f"#question-{q[5]}-row-{i} .scale label")
                    self.assertEqual(len(row), 5)
                    self.assertEqual(len(set(row)), 1, f"{lang} at {width} px: matrix row {i} on one line")
            self.screenshot(f"{lang}-{page}-{width}")
            self.assertEqual(self.axe_violations(), [], f"{lang} page {page} at {width} px")

    def click_value(self, question, value):
        self.driver.find_element(
            By.CSS_SELECTOR, f"input[name='{question}'][value='{value}']"
        ).find_element(By.XPATH, "..").click()

    def click_label(self, question, text):
        labels = self.driver.find_elements(By.CSS_SELECTOR, f"#question-{question} .option label")
        next(label for label in labels if label.text == text).click()

    def visible(self, question):
        return self.driver.find_element(By.ID, f"question-{question}").is_displayed()

    def progress(self):
        return self.driver.find_element(By.ID, "progress").text

    def button(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    # ------------------------------------------------------------ the test

    def test_every_question_type_over_three_pages_in_three_languages(self):
        for lang in SURVEYS:
            with self.subTest(lang=lang):
                self.fill_in(lang)
        severe = [e for e in self.driver.get_log("browser")
                  if e.get("level") == "SEVERE" and "/graphql" not in e.get("message", "")]
        self.assertEqual(severe, [], severe)

    def fill_in(self, lang):
        d = self.driver
        spec = SURVEYS[lang]
        q = self.surveys[lang]["questions"]
        self.use_width(1280)
        d.get(self.invite(lang))
        self.wait(EC.visibility_of_element_located((By.ID, "form")))
        self.assertEqual(d.execute_script("return document.documentElement.lang"), lang)

        # Page 1: only its questions, Next but no Back or submit.
        self.assertEqual(self.progress(), spec["progress"][0])
        self.assertTrue(all(self.visible(x) for x in q[:3]))
        self.assertFalse(any(self.visible(x) for x in q[3:]))
        self.assertFalse(self.button("button.back").is_displayed())
        self.assertFalse(self.button("button[type=submit]").is_displayed())
        self.assertEqual(self.button("button.next").text, spec["next"])
        # The rating's own end labels, in the survey's language, describe
        # its end buttons; the NPS row keeps the catalogue's.
        self.assertEqual(
            (d.find_element(By.ID, f"low-{q[0]}").text, d.find_element(By.ID, f"high-{q[0]}").text),
            spec["ends"],
        )
        lowest = d.find_element(By.CSS_SELECTOR, f"input[name='q{q[0]}'][value='1']")
        self.assertEqual(lowest.get_attribute("aria-describedby"), f"low-{q[0]}")
        self.assertEqual(d.find_element(By.ID, f"low-{q[1]}").text, spec["nps_low"])
        self.check_page(lang, 1)
        # Next with the required rating unanswered: the error, still page 1.
        self.use_width(390)
        self.click_value(f"q{q[1]}", 10)
        self.click_value(f"q{q[2]}", 6)
        self.button("button.next").click()
        self.wait(lambda dr: dr.find_element(By.ID, f"error-{q[0]}").text == spec["required"])
        self.assertEqual(self.progress(), spec["progress"][0])
        self.assertEqual(self.stored(lang), [])
        self.click_value(f"q{q[0]}", 4)
        self.button("button.next").click()

        # Page 2: choices and the matrix; the matrix is required row by row.
        self.wait(lambda dr: self.progress() == spec["progress"][1])
        self.assertTrue(self.visible(q[5]) and not self.visible(q[0]))
        self.assertEqual(self.button("button.back").text, spec["back"])
        self.assertEqual(
            [e.text for e in d.find_elements(By.CSS_SELECTOR, f"#question-{q[5]} fieldset.matrix-row legend")],
            spec["rows"],
        )
        # The multiple choice's limits are shown and describe its group.
        self.assertEqual(d.find_element(By.ID, f"hint-{q[4]}").text, spec["hint"])
        group = d.find_element(By.ID, f"question-{q[4]}")
        self.assertEqual(group.get_attribute("aria-describedby"), f"hint-{q[4]} error-{q[4]}")
        self.check_page(lang, 2)
        self.use_width(390)
        self.click_label(q[3], spec["options"][0][1])
        self.click_label(q[4], spec["options"][1][0])
        self.click_value(f"q{q[5]}-r0", 5)
        self.click_value(f"q{q[5]}-r2", 3)
        checkboxes = d.find_elements(By.CSS_SELECTOR, f"input[name='q{q[4]}']")

        def refused_for_limits():
            """Next stays on page 2 with the limits as the choice's error."""
            self.button("button.next").click()
            self.wait(lambda dr: dr.find_element(By.ID, f"error-{q[5]}").text == spec["required"])
            error = d.find_element(By.ID, f"error-{q[4]}")
            self.assertEqual(error.text, spec["hint"])
            self.assertEqual(error.get_attribute("role"), "alert")
            self.assertEqual([c.get_attribute("aria-invalid") for c in checkboxes], ["true"] * 4)
            self.assertEqual(self.progress(), spec["progress"][1])

        # One option is too few, four too many.
        refused_for_limits()
        self.assertEqual(self.axe_violations(), [], f"{lang} page 2 with errors")
        for option in spec["options"][1][1:]:
            self.click_label(q[4], option)
        refused_for_limits()
        self.assertEqual(self.stored(lang), [])
        for option in (spec["options"][1][1], spec["options"][1][3]):
            self.click_label(q[4], option)
        self.button("button.next").click()
        self.wait(lambda dr: dr.find_element(By.ID, f"error-{q[4]}").text == "")
        self.assertEqual(d.find_element(By.ID, f"error-{q[5]}").text, spec["required"])
        self.assertEqual([c.get_attribute("aria-invalid") for c in checkboxes], [None] * 4)
        self.click_value(f"q{q[5]}-r1", 4)
        # Back keeps the answers; Next again.
        self.button("button.back").click()
        self.wait(lambda dr: self.progress() == spec["progress"][0])
        self.assertTrue(d.find_element(By.CSS_SELECTOR, f"input[name='q{q[0]}'][value='4']").is_selected())
        self.button("button.next").click()
        self.wait(lambda dr: self.progress() == spec["progress"][1])
        self.button("button.next").click()

        # Page 3: the date and the comment, and the submit button.
        self.wait(lambda dr: self.progress() == spec["progress"][2])
        self.assertFalse(self.button("button.next").is_displayed())
        self.assertEqual(self.button("button[type=submit]").text, spec["submit"])
        date = d.find_element(By.CSS_SELECTOR, f"input[name='q{q[6]}']")
        self.assertEqual((date.get_attribute("min"), date.get_attribute("max")), ("2026-01-01", "2026-12-31"))
        self.check_page(lang, 3)
        self.use_width(390)
        d.find_element(By.CSS_SELECTOR, f"textarea[name='q{q[7]}']").send_keys(f"ok {lang}")
        self.button("button[type=submit]").click()
        self.wait(lambda dr: dr.find_element(By.ID, f"error-{q[6]}").text == spec["required"])
        self.assertEqual(self.stored(lang), [])
        d.execute_script(
            "arguments[0].value = '2026-05-17';"
            " arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
            date,
        )
        self.button("button[type=submit]").click()
        self.wait(lambda dr: dr.find_element(By.ID, "status").get_attribute("data-code") == "SUBMITTED")
        for width in WIDTHS:
            self.use_width(width)
            self.screenshot(f"{lang}-thanks-{width}")
            self.assertEqual(self.axe_violations(), [], f"{lang} thanks at {width} px")

        stored = self.stored(lang)
        self.assertEqual(len(stored), 1)
        answers = stored[0]
        self.assertEqual(answers[q[0]]["rating"], 4)
        self.assertEqual(answers[q[1]]["rating"], 10)
        self.assertEqual(answers[q[2]]["rating"], 6)
        self.assertEqual(answers[q[3]]["choices"], [spec["options"][0][1]])
        self.assertEqual(answers[q[4]]["choices"], [spec["options"][1][0], spec["options"][1][2]])
        self.assertEqual(answers[q[5]]["rowRatings"], [5, 4, 3])
        self.assertEqual(answers[q[6]]["date"], "2026-05-17")
        self.assertEqual(answers[q[7]]["text"], f"ok {lang}")

if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False, verbosity=2).result.wasSuccessful() else 1)
