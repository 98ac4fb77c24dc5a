(function () {
  "use strict";
  // The form page's script: loads the survey for the token in the URL,
  // renders it, submits the answers. All text is set with textContent.
  var DATA = JSON.parse(document.getElementById("catalogue").textContent);
  var CATALOGUES = DATA.catalogues;
  var statusEl = document.getElementById("status");
  var titleEl = document.getElementById("title");
  var form = document.getElementById("form");
  var parts = location.pathname.split("/s/");
  var token = parts.length > 1 ? decodeURIComponent(parts[parts.length - 1]) : "";
  var ERRORS = {
    INVALID_TOKEN: "error-invalid-token",
    TOKEN_EXPIRED: "error-token-expired",
    ALREADY_SUBMITTED: "error-already-submitted",
    CONFLICT: "error-closed",
    RATE_LIMITED: "error-rate-limited",
    SERVICE_UNAVAILABLE: "error-unavailable",
    TIMEOUT: "error-timeout"
  };

  // The catalogue in use (the server chose it from Accept-Language; the
  // survey's locale replaces it once loaded) and the locale numbers and
  // dates are formatted in.
  var ui = pick(document.documentElement.lang);
  var formats = ui;

  function pick(tag) {
    var lower = String(tag || "").toLowerCase();
    if (CATALOGUES[lower]) { return lower; }
    var primary = lower.split("-")[0];
    return CATALOGUES[primary] ? primary : "en";
  }

  // Message `id` with `vars` filled in; a plural message picks its form by
  // vars.count with the locale's plural rules.
  function t(id, vars) {
    var entry = CATALOGUES[ui][id];
    if (entry === undefined) { entry = CATALOGUES.en[id]; }
    if (typeof entry !== "string") {
      var category = "other";
      try { category = new Intl.PluralRules(formats).select(vars.count); } catch (e) { category = "other"; }
      entry = entry[category] || entry.other;
    }
    return entry.replace(/\{([a-z]+)\}/g, function (whole, name) {
      return vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : whole;
    });
  }

  function number(n) {
    try { return new Intl.NumberFormat(formats).format(n); } catch (e) { return String(n); }
  }

  function date(iso) {
    try { return new Intl.DateTimeFormat(formats, { dateStyle: "long" }).format(new Date(iso)); } catch (e) { return iso; }
  }

  function points(id, n) { return t(id, { count: n, points: number(n) }); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // An element showing catalogue text; marked with the catalogue's language
  // when the page's language (the survey's) is another one.
  function uiEl(tag, attrs, text) {
    var node = el(tag, attrs, text);
    markLang(node);
    return node;
  }

  function markLang(node) {
    if (pick(document.documentElement.lang) !== ui) { node.setAttribute("lang", ui); } else { node.removeAttribute("lang"); }
  }

  // Switches the catalogue and re-translates the server-rendered text.
  function useLocale(tag) {
    ui = pick(tag);
    formats = String(tag).toLowerCase().split("-")[0] === ui ? tag : ui;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"), { org: DATA.org });
      markLang(node);
    });
  }

  function showStatus(text, problem) {
    statusEl.removeAttribute("data-i18n");
    statusEl.textContent = text;
    statusEl.className = problem ? "problem" : "";
    markLang(statusEl);
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
    return { code: ext.code || "INTERNAL", field: ext.field || "" };
  }

  function stop(code) {
    form.hidden = true;
    showStatus(t(ERRORS[code] || "error-generic"), code !== "ALREADY_SUBMITTED");
    statusEl.setAttribute("data-code", code);
  }

  var LOAD = "query Invitation($token: String!) { surveyInvitation(token: $token) { title description thankYou locale incentivePoints expiresAt questions { id position text required kind options optionLabels maxLength scaleMin scaleMax minChoices maxChoices rows rowLabels earliestDate latestDate minLabel maxLabel page showWhen { questionId anyOf ratingMin ratingMax matrixRow dateAfter dateBefore } } } }";
  var SUBMIT = "mutation Submit($token: String!, $answers: [SurveyAnswerInput!]!) { submitSurveyResponse(input: { token: $token, answers: $answers }) { responseId pointsAwarded csi } }";

  // ---------------------------------------------------------------- kinds
  // Each question kind: `render(q, fieldset)` adds its controls,
  // `collect(q)` returns its answer or null. A new kind is one entry.

  // One row of radio buttons `name` from q.scaleMin to q.scaleMax; the end
  // labels `ends` ({low, high} elements, or null) sit under the end buttons,
  // which they describe (`describe` ids when they are shown elsewhere).
  function buttons(q, name, ends, describe) {
    var n = q.scaleMax - q.scaleMin + 1;
    var grid = el("div", { "class": "scale" });
    grid.style.setProperty("--n", String(n));
    grid.style.setProperty("--half", String(Math.max(1, Math.floor(n / 2))));
    for (var v = q.scaleMin; v <= q.scaleMax; v++) {
      var label = el("label");
      var input = el("input", { type: "radio", name: name, value: String(v) });
      if (v === q.scaleMin) { input.setAttribute("aria-describedby", describe.low); }
      if (v === q.scaleMax) { input.setAttribute("aria-describedby", describe.high); }
      label.appendChild(input);
      label.appendChild(el("span", null, number(v)));
      grid.appendChild(label);
    }
    if (ends) {
      grid.appendChild(ends.low);
      grid.appendChild(ends.high);
    }
    return grid;
  }

  // The question's own end labels (survey text, in the survey's language),
  // else the catalogue's `lowId` and `highId`.
  function endLabels(q, lowId, highId) {
    function end(which, own, id) {
      var attrs = { "class": "end " + which, id: which + "-" + q.id };
      if (own) { return el("span", attrs, own); }
      return uiEl("span", attrs, t(id));
    }
    return { low: end("low", q.minLabel, lowId), high: end("high", q.maxLabel, highId) };
  }

  function scale(lowId, highId) {
    return function (q, fieldset) {
      var ends = endLabels(q, lowId, highId);
      fieldset.appendChild(buttons(q, "q" + q.id, ends, { low: ends.low.id, high: ends.high.id }));
    };
  }

  // A matrix: one group per statement, each a row of buttons on the same
  // scale; the end labels sit under the last row's end buttons and describe
  // every row's.
  function matrix(q, fieldset) {
    var ends = endLabels(q, "scale-low", "scale-high");
    var ids = { low: ends.low.id, high: ends.high.id };
    q.rows.forEach(function (row, i) {
      var group = el("fieldset", { "class": "matrix-row", id: "question-" + q.id + "-row-" + i });
      group.appendChild(el("legend", null, (q.rowLabels && q.rowLabels[i]) || row));
      group.appendChild(buttons(q, "q" + q.id + "-r" + i, i === q.rows.length - 1 ? ends : null, ids));
      fieldset.appendChild(group);
    });
  }

  function rated(q) {
    var ratings = q.rows.map(function (row, i) {
      var checked = form.querySelector("input[name='q" + q.id + "-r" + i + "']:checked");
      return checked ? parseInt(checked.value, 10) : null;
    });
    var any = ratings.some(function (r) { return r !== null; });
    return any ? { questionId: q.id, rowRatings: ratings } : null;
  }

  function day(q, fieldset) {
    var input = el("input", { type: "date", name: "q" + q.id, "aria-labelledby": "legend-" + q.id });
    if (q.earliestDate) { input.setAttribute("min", q.earliestDate); }
    if (q.latestDate) { input.setAttribute("max", q.latestDate); }
    fieldset.appendChild(input);
  }

  function dated(q) {
    var input = form.querySelector("input[name='q" + q.id + "']");
    return input && input.value ? { questionId: q.id, date: input.value } : null;
  }

  function rating(q) {
    var checked = form.querySelector("input[name='q" + q.id + "']:checked");
    return checked ? { questionId: q.id, rating: parseInt(checked.value, 10) } : null;
  }

  function choices(type) {
    return function (q, fieldset) {
      q.options.forEach(function (option, i) {
        var id = "q" + q.id + "-" + i;
        var row = el("div", { "class": "option" });
        var input = el("input", { type: type, name: "q" + q.id, id: id });
        input.value = option;
        row.appendChild(input);
        row.appendChild(el("label", { "for": id }, (q.optionLabels && q.optionLabels[i]) || option));
        fieldset.appendChild(row);
      });
    };
  }

  // A MULTIPLE_CHOICE question's limits as one sentence, or "" when any
  // number of options will do (minChoices unset or 1, maxChoices unset or
  // all of them).
  function limitHint(q) {
    var min = q.minChoices > 1 ? q.minChoices : null;
    var max = q.maxChoices && q.maxChoices < q.options.length ? q.maxChoices : null;
    if (q.minChoices && q.minChoices === q.maxChoices) {
      return t("choose-exactly", { count: q.minChoices, min: number(q.minChoices) });
    }
    if (min && max) { return t("choose-between", { count: max, min: number(min), max: number(max) }); }
    if (min) { return t("choose-at-least", { count: min, min: number(min) }); }
    if (max) { return t("choose-at-most", { count: max, max: number(max) }); }
    return "";
  }

  // Check boxes with the question's limits shown above them; the hint also
  // describes the group.
  function several(q, fieldset) {
    var hint = limitHint(q);
    if (hint) {
      fieldset.appendChild(uiEl("p", { "class": "hint", id: "hint-" + q.id }, hint));
      fieldset.setAttribute("aria-describedby", "hint-" + q.id + " " + fieldset.getAttribute("aria-describedby"));
    }
    choices("checkbox")(q, fieldset);
  }

  // Whether an answered MULTIPLE_CHOICE question has fewer or more options
  // chosen than it takes (unanswered is the required check's business).
  function outOfLimits(q) {
    if (q.kind !== "MULTIPLE_CHOICE") { return false; }
    var answer = picked(q);
    if (!answer) { return false; }
    var n = answer.choices.length;
    return (q.minChoices && n < q.minChoices) || (q.maxChoices && n > q.maxChoices) ? true : false;
  }

  function picked(q) {
    var checked = Array.prototype.slice.call(form.querySelectorAll("input[name='q" + q.id + "']:checked"));
    return checked.length ? { questionId: q.id, choices: checked.map(function (c) { return c.value; }) } : null;
  }

  function text(q, fieldset) {
    var area = el("textarea", { name: "q" + q.id, "aria-labelledby": "legend-" + q.id });
    if (q.maxLength) { area.setAttribute("maxlength", String(q.maxLength)); }
    fieldset.appendChild(area);
  }

  function written(q) {
    var area = form.querySelector("textarea[name='q" + q.id + "']");
    return area && area.value.trim() !== "" ? { questionId: q.id, text: area.value } : null;
  }

  var KINDS = {
    RATING: { render: scale("scale-low", "scale-high"), collect: rating },
    CSI_FACTOR: { render: scale("scale-low", "scale-high"), collect: rating },
    NPS: { render: scale("nps-low", "nps-high"), collect: rating },
    SINGLE_CHOICE: { render: choices("radio"), collect: picked },
    MULTIPLE_CHOICE: { render: several, collect: picked },
    TEXT: { render: text, collect: written },
    MATRIX: { render: matrix, collect: rated },
    DATE: { render: day, collect: dated }
  };

  function kind(q) { return KINDS[q.kind] || KINDS.TEXT; }

  // ---------------------------------------------------------- conditions
  // A question with `showWhen` is shown only while the earlier question it
  // names is shown and its answer matches; a hidden question's answer is
  // not sent (the server refuses it and requires it only when shown).

  function set(value) { return value !== null && value !== undefined; }

  function holds(condition, answer) {
    if (!answer) { return false; }
    if (condition.anyOf && condition.anyOf.length) {
      return (answer.choices || []).some(function (c) { return condition.anyOf.indexOf(c) >= 0; });
    }
    if (set(condition.dateAfter) || set(condition.dateBefore)) {
      // YYYY-MM-DD strings compare like the days they name.
      return typeof answer.date === "string" &&
        (!set(condition.dateAfter) || answer.date > condition.dateAfter) &&
        (!set(condition.dateBefore) || answer.date < condition.dateBefore);
    }
    var rating = set(condition.matrixRow) ? (answer.rowRatings || [])[condition.matrixRow - 1] : answer.rating;
    if (typeof rating !== "number") { return false; }
    return (!set(condition.ratingMin) || rating >= condition.ratingMin) &&
      (!set(condition.ratingMax) || rating <= condition.ratingMax);
  }

  // The ids of the questions shown with the current answers, in order.
  function shownQuestions(inv) {
    var shown = {};
    var byId = {};
    inv.questions.forEach(function (q) {
      byId[q.id] = q;
      var c = q.showWhen;
      shown[q.id] = !c || (shown[c.questionId] === true && holds(c, kind(byId[c.questionId]).collect(byId[c.questionId])));
    });
    return shown;
  }

  // ---------------------------------------------------------------- pages
  // Questions carry a page number; the form shows one page at a time, with
  // Back and Next, and the submit button on the last page. Pages whose
  // questions are all hidden by conditions are skipped. Next checks the
  // page's required questions; the server still checks the whole submission.

  var nav = { page: 1 };

  function pageOf(q) { return q.page || 1; }

  // The page numbers with at least one shown question, in order.
  function pagesShown(inv, shown) {
    var pages = [];
    inv.questions.forEach(function (q) {
      if (shown[q.id] && pages.indexOf(pageOf(q)) < 0) { pages.push(pageOf(q)); }
    });
    return pages.length ? pages : [1];
  }

  function refresh(inv) {
    var shown = shownQuestions(inv);
    var pages = pagesShown(inv, shown);
    if (pages.indexOf(nav.page) < 0) {
      // The page's questions were hidden: stay on the page before it.
      var before = pages.filter(function (p) { return p < nav.page; });
      nav.page = before.length ? before[before.length - 1] : pages[0];
    }
    var at = pages.indexOf(nav.page);
    inv.questions.forEach(function (q) {
      document.getElementById("question-" + q.id).hidden = !shown[q.id] || pageOf(q) !== nav.page;
    });
    nav.progress.hidden = pages.length < 2;
    nav.progress.textContent = t("progress", { page: number(at + 1), pages: number(pages.length) });
    nav.progress.setAttribute("data-page", String(at + 1));
    nav.progress.setAttribute("data-pages", String(pages.length));
    nav.back.hidden = at === 0;
    nav.next.hidden = at === pages.length - 1;
    nav.submit.hidden = !nav.next.hidden;
    return pages;
  }

  function go(inv, step) {
    var pages = refresh(inv);
    var at = pages.indexOf(nav.page) + step;
    if (at < 0 || at >= pages.length) { return; }
    nav.page = pages[at];
    refresh(inv);
    showStatus("");
    nav.progress.focus();
  }

  // Whether the shown questions of the current page that are required are
  // answered (a matrix: every row) and every multiple choice is within its
  // limits; marks those that are not and focuses the first.
  function pageComplete(inv) {
    clearErrors();
    var shown = shownQuestions(inv);
    var bad = inv.questions.filter(function (q) {
      if (!shown[q.id] || pageOf(q) !== nav.page) { return false; }
      if (outOfLimits(q)) {
        markQuestion(q.id, null, limitHint(q));
        return true;
      }
      if (!q.required) { return false; }
      var answer = kind(q).collect(q);
      if (!answer || (answer.rowRatings && answer.rowRatings.indexOf(null) >= 0)) {
        markQuestion(q.id, "answer-required");
        return true;
      }
      return false;
    });
    if (bad.length) {
      focusQuestion(bad[0].id);
      showStatus(t("check-question"), true);
      return false;
    }
    return true;
  }

  // Shows catalogue message `message` (or `text`) as the question's error
  // and marks its inputs invalid.
  function markQuestion(id, message, text) {
    var question = document.getElementById("question-" + id);
    document.getElementById("error-" + id).textContent = message ? t(message) : text;
    question.classList.add("invalid");
    Array.prototype.forEach.call(question.querySelectorAll("input, textarea"), function (input) {
      input.setAttribute("aria-invalid", "true");
    });
  }

  function focusQuestion(id) {
    var first = document.getElementById("question-" + id).querySelector("input, textarea");
    if (first) { first.focus(); }
  }

  // ---------------------------------------------------------------- page

  function render(inv) {
    if (inv.locale && /^[A-Za-z0-9-]{1,35}$/.test(inv.locale)) {
      document.documentElement.lang = inv.locale;
      useLocale(inv.locale);
    }
    titleEl.textContent = inv.title;
    titleEl.removeAttribute("lang");
    document.title = inv.title;
    showStatus("");
    if (inv.description) { form.appendChild(el("p", { "class": "intro" }, inv.description)); }
    if (inv.incentivePoints > 0) {
      form.appendChild(uiEl("p", { "class": "incentive" }, points("incentive", inv.incentivePoints)));
    }
    if (inv.expiresAt) {
      form.appendChild(uiEl("p", { "class": "expires" }, t("valid-until", { date: date(inv.expiresAt) })));
    }
    nav.progress = uiEl("p", { "class": "progress", id: "progress", tabindex: "-1" });
    form.appendChild(nav.progress);
    inv.questions.forEach(function (q) {
      var fieldset = el("fieldset", { id: "question-" + q.id, "data-question": q.id, "data-kind": q.kind, "aria-describedby": "error-" + q.id });
      var legend = el("legend", { id: "legend-" + q.id }, q.position + ". " + q.text);
      if (q.required) {
        legend.appendChild(el("span", { "class": "req", "aria-hidden": "true" }, " *"));
        legend.appendChild(uiEl("span", { "class": "sr" }, " " + t("required")));
      }
      fieldset.appendChild(legend);
      kind(q).render(q, fieldset);
      fieldset.appendChild(uiEl("p", { "class": "error", id: "error-" + q.id, role: "alert" }));
      form.appendChild(fieldset);
    });
    var bar = el("div", { "class": "nav" });
    nav.back = uiEl("button", { type: "button", "class": "back" }, t("back"));
    nav.next = uiEl("button", { type: "button", "class": "next" }, t("next"));
    nav.submit = uiEl("button", { type: "submit" }, t("submit"));
    bar.appendChild(nav.back);
    bar.appendChild(nav.next);
    bar.appendChild(nav.submit);
    form.appendChild(bar);
    nav.page = inv.questions.length ? pageOf(inv.questions[0]) : 1;
    refresh(inv);
    form.addEventListener("change", function () { refresh(inv); });
    nav.back.addEventListener("click", function () { clearErrors(); go(inv, -1); });
    nav.next.addEventListener("click", function () { if (pageComplete(inv)) { go(inv, 1); } });
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // Enter on a page before the last one moves on, like Next.
      if (!nav.next.hidden) {
        if (pageComplete(inv)) { go(inv, 1); }
        return;
      }
      if (pageComplete(inv)) { submit(inv, nav.submit); }
    });
  }

  function collect(inv) {
    var answers = [];
    var shown = shownQuestions(inv);
    inv.questions.forEach(function (q) {
      if (!shown[q.id]) { return; }
      var answer = kind(q).collect(q);
      if (answer) { answers.push(answer); }
    });
    return answers;
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".error"), function (p) { p.textContent = ""; });
    Array.prototype.forEach.call(form.querySelectorAll("fieldset.invalid"), function (f) { f.classList.remove("invalid"); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (i) { i.removeAttribute("aria-invalid"); });
  }

  function submit(inv, button) {
    clearErrors();
    button.disabled = true;
    showStatus(t("sending"));
    var answers = collect(inv);
    gql(SUBMIT, { token: token, answers: answers }).then(function (body) {
      button.disabled = false;
      var err = errorOf(body);
      if (!err) {
        var receipt = body.data.submitSurveyResponse;
        form.hidden = true;
        var thanks = inv.thankYou || t("thanks");
        if (receipt.pointsAwarded > 0) { thanks += " " + points("thanks-points", receipt.pointsAwarded); }
        showStatus(thanks);
        statusEl.setAttribute("data-points", String(receipt.pointsAwarded));
        statusEl.setAttribute("data-code", "SUBMITTED");
        return;
      }
      if (err.code === "BAD_USER_INPUT") {
        // The server names the question; its English reason is not shown.
        var match = /^answers\.([A-Za-z0-9_-]+)$/.exec(err.field);
        var named = match && inv.questions.filter(function (q) { return q.id === match[1]; })[0];
        if (named) {
          // Show the page of the question the server names.
          nav.page = pageOf(named);
          refresh(inv);
          var answered = answers.some(function (a) { return a.questionId === match[1]; });
          markQuestion(match[1], answered ? "answer-invalid" : "answer-required");
          focusQuestion(match[1]);
          showStatus(t("check-question"), true);
        } else {
          showStatus(t("check-answers"), true);
        }
        statusEl.setAttribute("data-code", err.code);
        return;
      }
      stop(err.code);
    }).catch(function () {
      button.disabled = false;
      showStatus(t("error-network"), true);
    });
  }

  if (!token) { stop("INVALID_TOKEN"); return; }
  gql(LOAD, { token: token }).then(function (body) {
    var err = errorOf(body);
    if (err) { stop(err.code); return; }
    render(body.data.surveyInvitation);
  }).catch(function () {
    showStatus(t("error-network"), true);
  });
})();
