#!/usr/bin/env python3
"""Browser test of the survey form page in English, German and Greek:
catalogue text, branding, layout at 1280 px and 390 px, axe-core at WCAG 2.1
AA in every state, and keyboard-only completion.

Starts the built `rapport` binary with an organisation name, accent and
privacy link, creates one survey per language (locale `en`, `de`, `el`,
1000 incentive points) through the API, and drives headless Chromium with
the browser's language set to the survey's (Accept-Language):

- fresh form, field error, thanks, used link, expired link and unknown link:
  the page's own text is the language's catalogue text (the points with the
  locale's grouping: 1,000 / 1.000), and axe-core (npm `axe-core`, pinned
  in package-lock.json) finds no violation tagged wcag2a, wcag2aa, wcag21a
  or wcag21aa, at both widths;
- at 390 px the eleven NPS buttons share one row, and each scale's end
  labels sit under its first and last button;
- a respondent using only the keyboard (Tab, arrows, Space, typing, Enter)
  completes the Greek survey, and the stored answers are the ones chosen;
- screenshots of every state at both widths are kept in the output
  directory ($BROWSER_OUTPUT_DIR, default target/browser).

Environment as in harness.py (RAPPORT_BIN, CHROMIUM_BIN, CHROMEDRIVER_BIN).
"""

import base64
import os
import sqlite3
import sys
import unittest
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import harness
from harness import Harness, create_user, free_port, login, server_env

ORG = "Aegean Feedback & Co"
WIDTHS = (1280, 390)

SURVEYS = {
    "en": {
        "title": "How was your flight?",
        "questions": ["Overall satisfaction", "Would you recommend us?", "Cabin", "Used on board", "Anything else?"],
        "options": [["Economy", "Business"], ["Wifi", "Lounge", "Meals"]],
    },
    "de": {
        "title": "Wie war Ihr Flug?",
        "questions": ["Gesamtzufriedenheit", "Würden Sie uns weiterempfehlen?", "Kabine", "An Bord genutzt", "Sonst noch etwas?"],
        "options": [["Economy", "Business"], ["WLAN", "Lounge", "Mahlzeiten"]],
    },
    "el": {
        "title": "Πώς ήταν η πτήση σας;",
        "questions": ["Συνολική ικανοποίηση", "Θα μας προτείνατε;", "Θέση", "Χρησιμοποιήσατε", "Κάτι άλλο;"],
        "options": [["Οικονομική", "Business"], ["Wifi", "Σαλόνι", "Γεύματα"]],
    },
}

# The page's own text per language, as its catalogue has it.
EXPECTED = {
    "en": {
        "submit": "Send my answers",
        "ends": ("Not satisfied", "Completely satisfied"),
        "nps_ends": ("Not at all likely", "Extremely likely"),
        "incentive": "Answer this survey to earn 1,000 loyalty points.",
        "sender": "Sent by " + ORG,
        "privacy": "Privacy notice",
        "required": "Please answer this question.",
        "check": "Please check the highlighted question.",
        "thanks": "Thank you for your feedback! You earned 1,000 points.",
        "used": "You have already answered this survey. Thank you for your feedback!",
        "expired": "This invitation has expired, so the survey can no longer be answered.",
        "invalid": "This survey link is not valid. Please check that you opened the whole link from your invitation.",
        "until": "You can answer until ",
    },
    "de": {
        "submit": "Antworten senden",
        "ends": ("Nicht zufrieden", "Voll und ganz zufrieden"),
        "nps_ends": ("Überhaupt nicht wahrscheinlich", "Äußerst wahrscheinlich"),
        "incentive": "Beantworten Sie diese Umfrage und erhalten Sie 1.000 Treuepunkte.",
        "sender": "Gesendet von " + ORG,
        "privacy": "Datenschutzhinweis",
        "required": "Bitte beantworten Sie diese Frage.",
        "check": "Bitte prüfen Sie die markierte Frage.",
        "thanks": "Vielen Dank für Ihr Feedback! Sie haben 1.000 Punkte erhalten.",
        "used": "Sie haben diese Umfrage bereits beantwortet. Vielen Dank für Ihr Feedback!",
        "expired": "Diese Einladung ist abgelaufen, die Umfrage kann nicht mehr beantwortet werden.",
        "invalid": "Dieser Umfragelink ist ungültig. Bitte prüfen Sie, ob Sie den vollständigen Link aus Ihrer Einladung geöffnet haben.",
        "until": "Sie können bis zum ",
    },
    "el": {
        "submit": "Αποστολή απαντήσεων",
        "ends": ("Καθόλου ικανοποίηση", "Απόλυτη ικανοποίηση"),
        "nps_ends": ("Καθόλου πιθανό", "Εξαιρετικά πιθανό"),
        "incentive": "Απαντήστε σε αυτή την έρευνα και κερδίστε 1.000 πόντους επιβράβευσης.",
        "sender": "Αποστολή από " + ORG,
        "privacy": "Σημείωση απορρήτου",
        "required": "Παρακαλούμε απαντήστε σε αυτή την ερώτηση.",
        "check": "Παρακαλούμε ελέγξτε την επισημασμένη ερώτηση.",
        "thanks": "Σας ευχαριστούμε για τα σχόλιά σας! Κερδίσατε 1.000 πόντους.",
        "used": "Έχετε ήδη απαντήσει σε αυτή την έρευνα. Σας ευχαριστούμε για τα σχόλιά σας!",
        "expired": "Αυτή η πρόσκληση έχει λήξει, οπότε η έρευνα δεν δέχεται πλέον απαντήσεις.",
        "invalid": "Αυτός ο σύνδεσμος έρευνας δεν είναι έγκυρος. Ελέγξτε ότι ανοίξατε ολόκληρο τον σύνδεσμο της πρόσκλησής σας.",
        "until": "Μπορείτε να απαντήσετε έως τις ",
    },
}


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class FormLanguagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.axe_source = harness.axe_source()
        cls.harness = Harness("rapport-browser-i18n-")
        cls.addClassCleanup(cls.harness.close)
        cls.tmp = cls.harness.tmp
        cls.db_path = os.path.join(cls.tmp, "rapport.db")
        port = free_port()
        cls.base = f"http://127.0.0.1:{port}"
        env = server_env(
            cls.tmp,
            RAPPORT_ORG_NAME=ORG,
            RAPPORT_ORG_ACCENT="#0b5394",
            RAPPORT_PRIVACY_URL="/privacy",
        )
        create_user(env, "admin@example.com")
        cls.harness.serve(env, ["--public-url", cls.base], port=port)
        cls.token = login(cls.base, "admin@example.com")
        program = cls.create_program()
        cls.surveys = {lang: cls.create_survey(lang, program) for lang in SURVEYS}
        cls.driver = cls.harness.browser(["--window-size=1280,900", "--hide-scrollbars"])
        cls.driver.set_script_timeout(60)

    # ------------------------------------------------------------ set-up

    @classmethod
    def gql(cls, query, variables):
        return harness.graphql(cls.base, query, variables, cls.token)

    @classmethod
    def sql(cls, statement, params=()):
        with sqlite3.connect(cls.db_path, timeout=10) as conn:
            return conn.execute(statement, params).lastrowid

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
    def create_survey(cls, lang, program):
        spec = SURVEYS[lang]
        q = spec["questions"]
        survey = cls.gql(
            "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id questions { id } } } }",
            {"input": {
                "title": spec["title"],
                "locale": lang,
                "loyaltyProgramId": harness.gid("LoyaltyProgram", program),
                "incentivePoints": 1000,
                "questions": [
                    {"text": q[0], "kind": "RATING", "required": True},
                    {"text": q[1], "kind": "NPS"},
                    {"text": q[2], "kind": "SINGLE_CHOICE", "options": spec["options"][0]},
                    {"text": q[3], "kind": "MULTIPLE_CHOICE", "options": spec["options"][1]},
                    {"text": q[4], "kind": "TEXT", "maxLength": 500},
                ],
            }},
        )["createSurvey"]["survey"]
        cls.gql("mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }", {"id": survey["id"]})
        return {"id": survey["id"], "questions": [x["id"] for x in survey["questions"]]}

    def invite(self, lang, name):
        customer = self.gql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }",
            {"input": {"name": name}},
        )["createCustomer"]["customer"]["id"]
        expires = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.gql(
            "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { customerId formUrl } } }",
            {"s": self.surveys[lang]["id"], "c": [customer], "e": expires},
        )["inviteToSurvey"]["invitations"][0]

    def stored_answers(self, lang):
        edges = self.gql(
            "query($s: ID!) { surveyResponses(filter: { surveyId: $s }, first: 5) { edges { node { answers { questionId rating choices text } } } } }",
            {"s": self.surveys[lang]["id"]},
        )["surveyResponses"]["edges"]
        return [{a["questionId"]: a for a in e["node"]["answers"]} for e in edges]

    # ------------------------------------------------------------ browser helpers

    def use_language(self, lang):
        ua = self.driver.execute_script("return navigator.userAgent")
        self.driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": lang})

    def use_width(self, width):
        self.assertEqual(harness.set_width(self.driver, width), width)

    def wait(self, condition, timeout=15):
        return WebDriverWait(self.driver, timeout).until(condition)

    def status(self):
        return self.driver.find_element(By.ID, "status").text

    def open_form(self, url, code=None):
        self.driver.get(url)
        if code:
            self.wait(lambda d: d.find_element(By.ID, "status").get_attribute("data-code") == code)
        else:
            self.wait(EC.visibility_of_element_located((By.ID, "form")))

    def screenshot(self, name):
        harness.screenshot(self.driver, f"form-{name}")

    def axe_violations(self):
        return harness.axe_violations(self.driver, self.axe_source)

    def check_state(self, lang, state):
        """axe at both widths, with a full-page screenshot of each."""
        for width in WIDTHS:
            self.use_width(width)
            self.screenshot(f"{lang}-{state}-{width}")
            self.assertEqual(self.axe_violations(), [], f"{lang} {state} at {width} px")

    def rects(self, selector):
        return self.driver.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll(arguments[0]), function (e) {"
            " var r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, offsetTop: e.offsetTop }; });",
            selector,
        )

    def label_of(self, question, value):
        return self.driver.find_element(By.CSS_SELECTOR, f"input[name='q{question}'][value='{value}']").find_element(By.XPATH, "..")

    # ------------------------------------------------------------ the tests

    def test_each_language_in_every_state_reads_right_and_passes_axe(self):
        for lang in ("en", "de", "el"):
            with self.subTest(lang=lang):
                self.walk_through(lang)
        severe = [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE" and "/graphql" not in e.get("message", "")]
        self.assertEqual(severe, [], severe)

    def walk_through(self, lang):
        d = self.driver
        want = EXPECTED[lang]
        q = self.surveys[lang]["questions"]
        self.use_language(lang)
        self.use_width(390)
        invitation = self.invite(lang, f"Respondent {lang}")

        # Fresh form: the catalogue's text, the branding, the layout.
        self.open_form(invitation["formUrl"])
        self.assertEqual(d.execute_script("return document.documentElement.lang"), lang)
        self.assertEqual(d.find_element(By.ID, "title").text, SURVEYS[lang]["title"])
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "button[type=submit]").text, want["submit"])
        self.assertEqual(d.find_element(By.CSS_SELECTOR, ".incentive").text, want["incentive"])
        self.assertTrue(d.find_element(By.CSS_SELECTOR, ".expires").text.startswith(want["until"]))
        self.assertEqual(d.find_element(By.ID, "sender").text, want["sender"])
        self.assertEqual(d.find_element(By.ID, "privacy").text, want["privacy"])
        self.assertEqual(d.find_element(By.ID, "privacy").get_attribute("href"), self.base + "/privacy")
        self.assertEqual(tuple(e.text for e in d.find_elements(By.CSS_SELECTOR, f"#question-{q[0]} .end")), want["ends"])
        self.assertEqual(tuple(e.text for e in d.find_elements(By.CSS_SELECTOR, f"#question-{q[1]} .end")), want["nps_ends"])
        accent = d.execute_script("return getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor")
        self.assertEqual(accent, "rgb(11, 83, 148)")

        for width in WIDTHS:
            self.use_width(width)
            # Nothing sticks out sideways.
            scroll, client = d.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            self.assertEqual([scroll, client], [width, width], f"{lang} {width}px: no horizontal scrolling")
            for question, count in ((q[0], 5), (q[1], 11)):
                buttons = self.rects(f"#question-{question} .scale label")
                self.assertEqual(len(buttons), count)
                self.assertEqual(len({b["offsetTop"] for b in buttons}), 1, f"{lang} {width}px: one row of {count}")
                low, high = self.rects(f"#question-{question} .end")
                # Each end label right under its end button, aligned with it.
                self.assertGreaterEqual(low["top"], buttons[0]["bottom"])
                self.assertLess(low["top"] - buttons[0]["bottom"], 12)
                self.assertAlmostEqual(low["left"], buttons[0]["left"], delta=1)
                self.assertAlmostEqual(high["right"], buttons[-1]["right"], delta=1)
                self.assertEqual(low["top"], high["top"])
        self.check_state(lang, "fresh")

        # The required rating left out: the catalogue's error next to it.
        self.use_width(390)
        before = len(self.stored_answers(lang))
        self.label_of(q[1], 9).click()
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait(lambda dr: dr.find_element(By.ID, f"error-{q[0]}").text == want["required"])
        self.assertEqual(self.status(), want["check"])
        self.assertEqual(len(self.stored_answers(lang)), before, "nothing stored")
        self.check_state(lang, "error")

        # Complete and submit: thanks with the points in the locale's format.
        self.use_width(390)
        self.label_of(q[0], 4).click()
        d.find_element(By.CSS_SELECTOR, f"label[for='q{q[2]}-1']").click()
        d.find_element(By.CSS_SELECTOR, f"label[for='q{q[3]}-0']").click()
        d.find_element(By.CSS_SELECTOR, f"textarea[name='q{q[4]}']").send_keys("ok")
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait(lambda dr: dr.find_element(By.ID, "status").get_attribute("data-code") == "SUBMITTED")
        self.assertEqual(self.status(), want["thanks"])
        self.check_state(lang, "thanks")
        [stored] = [a for a in self.stored_answers(lang) if a[q[4]]["text"] == "ok"]
        self.assertEqual(stored[q[0]]["rating"], 4)
        self.assertEqual(stored[q[1]]["rating"], 9)
        self.assertEqual(stored[q[2]]["choices"], [SURVEYS[lang]["options"][0][1]])

        # The used link.
        self.open_form(invitation["formUrl"], "ALREADY_SUBMITTED")
        self.assertEqual(self.status(), want["used"])
        self.assertEqual(d.execute_script("return document.documentElement.lang"), lang)
        self.check_state(lang, "used")

        # An expired link.
        expired = self.invite(lang, f"Late {lang}")
        gid = expired["customerId"]
        customer = base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode().split(":", 1)[1]
        self.sql("UPDATE survey_invitations SET expires_at = ? WHERE customer_id = ?", ("2020-01-01T00:00:00+00:00", customer))
        self.open_form(expired["formUrl"], "TOKEN_EXPIRED")
        self.assertEqual(self.status(), want["expired"])
        self.check_state(lang, "expired")

        # An unknown link.
        self.open_form(f"{self.base}/s/{'A' * 43}", "INVALID_TOKEN")
        self.assertEqual(self.status(), want["invalid"])
        self.check_state(lang, "invalid")

    def test_a_keyboard_alone_completes_the_greek_survey(self):
        d = self.driver
        lang = "el"
        q = self.surveys[lang]["questions"]
        self.use_language(lang)
        self.use_width(390)
        invitation = self.invite(lang, "Keyboard respondent")
        self.open_form(invitation["formUrl"])

        def press(*keys):
            ActionChains(d).send_keys(*keys).perform()

        def focused():
            return d.execute_script(
                "var a = document.activeElement; return [a.tagName.toLowerCase(), a.getAttribute('type') || '', a.name || '', a.value || ''];"
            )

        press(Keys.TAB)
        self.assertEqual(focused(), ["input", "radio", f"q{q[0]}", "1"])
        press(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
        self.assertEqual(focused()[3], "4")
        press(Keys.TAB)
        self.assertEqual(focused()[:3], ["input", "radio", f"q{q[1]}"])
        press(*([Keys.ARROW_RIGHT] * 10))
        self.assertEqual(focused()[3], "10")
        press(Keys.TAB)
        self.assertEqual(focused()[:3], ["input", "radio", f"q{q[2]}"])
        press(Keys.SPACE)
        press(Keys.TAB)
        self.assertEqual(focused()[:3], ["input", "checkbox", f"q{q[3]}"])
        press(Keys.SPACE, Keys.TAB, Keys.TAB, Keys.SPACE)
        self.assertEqual(focused()[3], SURVEYS[lang]["options"][1][2])
        press(Keys.TAB)
        self.assertEqual(focused()[:3], ["textarea", "", f"q{q[4]}"])
        press("Όλα καλά")
        press(Keys.TAB)
        self.assertEqual(focused()[0], "button")
        self.screenshot("el-keyboard-390")
        press(Keys.ENTER)
        self.wait(lambda dr: dr.find_element(By.ID, "status").get_attribute("data-code") == "SUBMITTED")
        self.assertEqual(self.status(), EXPECTED[lang]["thanks"])

        answers = next(a for a in self.stored_answers(lang) if a[q[4]]["text"] == "Όλα καλά")
        self.assertEqual(answers[q[0]]["rating"], 4)
        self.assertEqual(answers[q[1]]["rating"], 10)
        self.assertEqual(answers[q[2]]["choices"], [SURVEYS[lang]["options"][0][0]])
        self.assertEqual(sorted(answers[q[3]]["choices"]), sorted([SURVEYS[lang]["options"][1][0], SURVEYS[lang]["options"][1][2]]))


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2, exit=False).result.wasSuccessful() is False)
