//! `GET /s/{token}`: the survey form page, a working form client out of the box.
//!
//! One small, dependency-free HTML document (inline CSS and JS, mobile
//! viewport). The server never writes the token or any survey text into the
//! HTML: the script reads the token from the URL, loads the survey through
//! the public `surveyInvitation` query and submits with `submitSurveyResponse`,
//! building every element with `textContent` (never `innerHTML`), so survey
//! and user text is shown literally. A per-response nonce in a strict
//! Content-Security-Policy allows only this page's own script and style, and
//! `connect-src 'self'` only this server's `/graphql`.

use actix_web::http::header;
use actix_web::HttpResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore;

/// The Content-Security-Policy of the form page for a nonce.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// Serves the form page. The token is not looked at here (the page asks the
/// API), so this handler touches no database and logs no path (see
/// `http::request_span`, which records route patterns, never paths).
pub async fn survey_form() -> HttpResponse {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = STANDARD.encode(bytes);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(&nonce),
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(PAGE.replace("{NONCE}", &nonce))
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Survey</title>
<style nonce="{NONCE}">
:root { color-scheme: light dark; --accent: #2457c5; --error: #b3261e; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 1rem; }
main { max-width: 40rem; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; overflow-wrap: anywhere; }
.intro, .incentive { margin: 0 0 1rem; overflow-wrap: anywhere; }
.incentive { font-weight: 600; }
fieldset { border: 1px solid #8884; border-radius: 8px; margin: 0 0 1rem; padding: 0.75rem 1rem 1rem; }
fieldset.invalid { border-color: var(--error); }
legend { font-weight: 600; padding: 0 0.25rem; overflow-wrap: anywhere; }
.req { color: var(--error); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.scale { display: flex; flex-wrap: wrap; gap: 0.4rem; margin-top: 0.5rem; }
.scale label { display: inline-flex; align-items: center; justify-content: center; min-width: 2.75rem; min-height: 2.75rem; border: 1px solid #8888; border-radius: 6px; cursor: pointer; position: relative; }
.scale input { position: absolute; opacity: 0; width: 100%; height: 100%; margin: 0; cursor: pointer; }
.scale input:checked + span { font-weight: 700; }
.scale label:has(input:checked) { background: var(--accent); color: #fff; border-color: var(--accent); }
.scale label:has(input:focus-visible) { outline: 3px solid var(--accent); outline-offset: 2px; }
.ends { display: flex; justify-content: space-between; font-size: 0.85rem; opacity: 0.8; }
.option { display: flex; gap: 0.5rem; align-items: flex-start; padding: 0.35rem 0; overflow-wrap: anywhere; }
.option input { width: 1.25rem; height: 1.25rem; margin-top: 0.15rem; }
textarea { width: 100%; min-height: 6rem; font: inherit; padding: 0.5rem; }
.error { color: var(--error); margin: 0.5rem 0 0; font-weight: 600; }
.error:empty { display: none; }
button[type=submit] { font: inherit; font-weight: 600; padding: 0.75rem 1.5rem; border: 0; border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; width: 100%; }
button[disabled] { opacity: 0.6; }
#status { margin: 1rem 0; font-size: 1.1rem; overflow-wrap: anywhere; }
#status.problem { color: var(--error); }
</style>
</head>
<body>
<main>
<h1 id="title">Survey</h1>
<div id="status" role="status" aria-live="polite">Loading the survey…</div>
<noscript><p>This form needs JavaScript enabled.</p></noscript>
<form id="form" hidden novalidate></form>
</main>
<script nonce="{NONCE}">
(function () {
  "use strict";
  var statusEl = document.getElementById("status");
  var titleEl = document.getElementById("title");
  var form = document.getElementById("form");
  var parts = location.pathname.split("/s/");
  var token = parts.length > 1 ? decodeURIComponent(parts[parts.length - 1]) : "";
  var MESSAGES = {
    INVALID_TOKEN: "This survey link is not valid. Please check that you opened the whole link from your invitation.",
    TOKEN_EXPIRED: "This invitation has expired, so the survey can no longer be answered.",
    ALREADY_SUBMITTED: "You have already answered this survey. Thank you for your feedback!",
    CONFLICT: "This survey is closed and no longer accepts answers.",
    RATE_LIMITED: "Too many attempts from your network. Please wait a minute and try again.",
    SERVICE_UNAVAILABLE: "The service is busy right now. Please try again in a moment.",
    TIMEOUT: "The service took too long to answer. Please try again."
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function showStatus(text, problem) {
    statusEl.textContent = text;
    statusEl.className = problem ? "problem" : "";
  }

  function gql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: query, variables: variables }),
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (r) { return r.json(); });
  }

  function errorOf(body) {
    var e = body && body.errors && body.errors[0];
    if (!e) { return null; }
    var ext = e.extensions || {};
    return { code: ext.code || "INTERNAL", field: ext.field || "", message: e.message || "" };
  }

  function stop(code) {
    form.hidden = true;
    showStatus(MESSAGES[code] || "Something went wrong. Please try again later.", code !== "ALREADY_SUBMITTED");
    statusEl.setAttribute("data-code", code);
  }

  var LOAD = "query Invitation($token: String!) { surveyInvitation(token: $token) { title description thankYou locale incentivePoints expiresAt questions { id position text required kind options optionLabels maxLength scaleMin scaleMax } } }";
  var SUBMIT = "mutation Submit($token: String!, $answers: [SurveyAnswerInput!]!) { submitSurveyResponse(input: { token: $token, answers: $answers }) { responseId pointsAwarded csi } }";

  function scale(q, fieldset) {
    var group = el("div", { "class": "scale" });
    for (var v = q.scaleMin; v <= q.scaleMax; v++) {
      var label = el("label");
      var input = el("input", { type: "radio", name: "q" + q.id, value: String(v), "aria-label": String(v) });
      label.appendChild(input);
      label.appendChild(el("span", null, String(v)));
      group.appendChild(label);
    }
    fieldset.appendChild(group);
    var ends = el("div", { "class": "ends", "aria-hidden": "true" });
    if (q.kind === "NPS") {
      ends.appendChild(el("span", null, "Not at all likely"));
      ends.appendChild(el("span", null, "Extremely likely"));
    } else {
      ends.appendChild(el("span", null, "Not satisfied"));
      ends.appendChild(el("span", null, "Completely satisfied"));
    }
    fieldset.appendChild(ends);
  }

  function choices(q, fieldset, type) {
    q.options.forEach(function (option, i) {
      var id = "q" + q.id + "-" + i;
      var row = el("div", { "class": "option" });
      var input = el("input", { type: type, name: "q" + q.id, id: id });
      input.value = option;
      row.appendChild(input);
      row.appendChild(el("label", { "for": id }, (q.optionLabels && q.optionLabels[i]) || option));
      fieldset.appendChild(row);
    });
  }

  function render(inv) {
    if (inv.locale && /^[A-Za-z0-9-]{1,35}$/.test(inv.locale)) { document.documentElement.lang = inv.locale; }
    titleEl.textContent = inv.title;
    document.title = inv.title;
    showStatus("");
    if (inv.description) { form.appendChild(el("p", { "class": "intro" }, inv.description)); }
    if (inv.incentivePoints > 0) {
      form.appendChild(el("p", { "class": "incentive" }, "Answer this survey to earn " + inv.incentivePoints + " loyalty points."));
    }
    inv.questions.forEach(function (q) {
      var fieldset = el("fieldset", { id: "question-" + q.id, "data-question": q.id, "data-kind": q.kind, "aria-describedby": "error-" + q.id });
      var legend = el("legend", null, q.position + ". " + q.text);
      if (q.required) {
        legend.appendChild(el("span", { "class": "req", "aria-hidden": "true" }, " *"));
        legend.appendChild(el("span", { "class": "sr" }, " (required)"));
      }
      fieldset.appendChild(legend);
      if (q.kind === "RATING" || q.kind === "NPS" || q.kind === "CSI_FACTOR") {
        scale(q, fieldset);
      } else if (q.kind === "SINGLE_CHOICE") {
        choices(q, fieldset, "radio");
      } else if (q.kind === "MULTIPLE_CHOICE") {
        choices(q, fieldset, "checkbox");
      } else {
        var area = el("textarea", { name: "q" + q.id, "aria-label": q.text });
        if (q.maxLength) { area.setAttribute("maxlength", String(q.maxLength)); }
        fieldset.appendChild(area);
      }
      fieldset.appendChild(el("p", { "class": "error", id: "error-" + q.id, role: "alert" }));
      form.appendChild(fieldset);
    });
    var button = el("button", { type: "submit" }, "Send my answers");
    form.appendChild(button);
    form.hidden = false;
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(inv, button); });
  }

  function collect(inv) {
    var answers = [];
    inv.questions.forEach(function (q) {
      var name = "q" + q.id;
      if (q.kind === "TEXT") {
        var area = form.querySelector("textarea[name='" + name + "']");
        if (area && area.value.trim() !== "") { answers.push({ questionId: q.id, text: area.value }); }
        return;
      }
      var checked = Array.prototype.slice.call(form.querySelectorAll("input[name='" + name + "']:checked"));
      if (checked.length === 0) { return; }
      if (q.kind === "SINGLE_CHOICE" || q.kind === "MULTIPLE_CHOICE") {
        answers.push({ questionId: q.id, choices: checked.map(function (c) { return c.value; }) });
      } else {
        answers.push({ questionId: q.id, rating: parseInt(checked[0].value, 10) });
      }
    });
    return answers;
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".error"), function (p) { p.textContent = ""; });
    Array.prototype.forEach.call(form.querySelectorAll("fieldset.invalid"), function (f) { f.classList.remove("invalid"); });
  }

  function submit(inv, button) {
    clearErrors();
    button.disabled = true;
    showStatus("Sending…");
    gql(SUBMIT, { token: token, answers: collect(inv) }).then(function (body) {
      button.disabled = false;
      var err = errorOf(body);
      if (!err) {
        var receipt = body.data.submitSurveyResponse;
        form.hidden = true;
        var text = inv.thankYou || "Thank you for your feedback!";
        if (receipt.pointsAwarded > 0) { text += " You earned " + receipt.pointsAwarded + " points."; }
        showStatus(text);
        statusEl.setAttribute("data-points", String(receipt.pointsAwarded));
        statusEl.setAttribute("data-code", "SUBMITTED");
        return;
      }
      if (err.code === "BAD_USER_INPUT") {
        var match = /^answers\.([A-Za-z0-9_-]+)$/.exec(err.field);
        var fieldset = match && document.getElementById("question-" + match[1]);
        if (fieldset) {
          var reason = err.message.replace(/^answers\.[A-Za-z0-9_-]+:\s*/, "");
          document.getElementById("error-" + match[1]).textContent = reason;
          fieldset.classList.add("invalid");
          var first = fieldset.querySelector("input, textarea");
          if (first) { first.focus(); }
          showStatus("Please check the highlighted question.", true);
        } else {
          showStatus("Please check your answers: " + err.message, true);
        }
        return;
      }
      stop(err.code);
    }).catch(function () {
      button.disabled = false;
      showStatus("Could not reach the server. Please check your connection and try again.", true);
    });
  }

  if (!token) { stop("INVALID_TOKEN"); return; }
  gql(LOAD, { token: token }).then(function (body) {
    var err = errorOf(body);
    if (err) { stop(err.code); return; }
    render(body.data.surveyInvitation);
  }).catch(function () {
    showStatus("Could not reach the server. Please check your connection and try again.", true);
  });
})();
</script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_uses_no_inner_html_and_only_nonced_inline_code() {
        assert!(!PAGE.contains("innerHTML"));
        assert!(!PAGE.contains("outerHTML"));
        assert!(!PAGE.contains("insertAdjacentHTML"));
        assert!(!PAGE.contains("document.write"));
        assert_eq!(PAGE.matches("<script").count(), 1);
        assert_eq!(PAGE.matches("<script nonce=\"{NONCE}\">").count(), 1);
        assert_eq!(PAGE.matches("<style nonce=\"{NONCE}\">").count(), 1);
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'nonce-abc'"));
        assert!(csp.contains("connect-src 'self'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
