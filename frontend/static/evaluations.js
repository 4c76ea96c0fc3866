// The evaluation form: show/hide conditional questions and a live score preview from the server.
(function () {
  "use strict";
  function currentValue(form, questionId) {
    const checked = form.querySelector('input[name="answer__' + questionId + '"]:checked');
    return checked ? checked.value : "";
  }
  function applyConditions(form) {
    // Conditions refer only to earlier questions, so one pass in document order is enough.
    form.querySelectorAll(".question").forEach(function (el) {
      const ref = el.getAttribute("data-condition-question");
      if (!ref) { return; }
      const refEl = form.querySelector('.question[data-question="' + ref + '"]');
      const shown = refEl && !refEl.hidden && currentValue(form, ref) === el.getAttribute("data-condition-value");
      el.hidden = !shown;
    });
  }
  function collectAnswers(form) {
    const answers = [];
    form.querySelectorAll(".question").forEach(function (el) {
      const id = el.getAttribute("data-question");
      const type = el.getAttribute("data-type");
      if (type === "comment") { return; }
      const raw = currentValue(form, id);
      if (raw === "") { return; }
      if (raw === "na") { answers.push({ question_id: id, na: true }); return; }
      let value = raw;
      if (type === "yes_no") { value = raw === "yes"; }
      if (type === "scale") { value = parseInt(raw, 10); }
      answers.push({ question_id: id, value: value });
    });
    return answers;
  }
  function preview(form) {
    const out = document.getElementById("live-score");
    const note = document.getElementById("live-note");
    window.earshotFetch(form.getAttribute("data-preview-url"), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(collectAnswers(form))
    }).then(function (r) { return r.json(); }).then(function (result) {
      if (result.error) { note.textContent = result.error.message; return; }
      out.textContent = result.score === null ? "—" : result.score.toFixed(1);
      const parts = [];
      if (result.critical_failures.length) { parts.push("critical failure: " + result.critical_failures.join(", ")); }
      if (result.missing.length) { parts.push(result.missing.length + " still to answer"); }
      note.textContent = parts.join(" · ");
    }).catch(function () { note.textContent = "preview unavailable"; });
  }
  let saveTimer = null;
  function autosave(form) {
    // Drafts save on their own a moment after the last change; the revision guards against overwriting
    // someone else's save (the server answers 409 and the page says so).
    const status = document.getElementById("autosave-status");
    const data = new FormData(form);
    data.set("action", "autosave");
    // The page's form token stays for the evaluator's own Save or Submit (a form acts once: app/auth/forms.py);
    // the page saves drafts many times.
    data.delete("form_once");
    window.earshotFetch(form.getAttribute("action"), { method: "POST", body: data })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (res.ok) {
          form.querySelector('input[name="revision"]').value = res.body.revision;
          status.textContent = "Draft saved";
        } else {
          status.textContent = "Not saved: " + res.body.error.message;
        }
      }).catch(function () { status.textContent = "Not saved (connection problem)"; });
  }
  function mmss(seconds) {
    const s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function linkEvidence(form) {
    // Click a transcript line or a message to add it as evidence to the question you last worked on.
    let target = null;
    form.addEventListener("focusin", function (e) {
      const q = e.target.closest(".question");
      if (q) { target = q.querySelector('input[name^="evidence__"]'); }
    });
    document.querySelectorAll(".transcript li, .messages li").forEach(function (li) {
      li.style.cursor = "pointer";
      li.title = "Click to add as evidence to the current question";
      li.addEventListener("click", function () {
        if (!target) { return; }
        const ref = li.hasAttribute("data-start") ? mmss(parseFloat(li.getAttribute("data-start")))
          : "#" + li.id.replace("m-", "");
        target.value = target.value ? target.value + ", " + ref : ref;
        target.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }
  function suggestionState(question) {
    // Says whether the selected answer is the auto-QA suggestion, so nobody mistakes a pre-selection for a check.
    const box = question.querySelector(".suggestion");
    if (!box) { return; }
    const state = box.querySelector(".state");
    const current = currentValue(question.closest("form"), question.getAttribute("data-question"));
    if (question.classList.contains("accepted") && current === box.getAttribute("data-suggested")) {
      state.textContent = "accepted";
    } else if (current && current !== box.getAttribute("data-suggested")) {
      question.classList.remove("accepted");
      state.textContent = "changed from the suggestion";
    } else if (!question.classList.contains("accepted")) {
      state.textContent = current ? "pre-selected, not checked yet" : "";
    }
  }
  function linkSuggestions(form) {
    form.querySelectorAll(".question .suggestion").forEach(function (box) {
      const question = box.closest(".question");
      const id = question.getAttribute("data-question");
      const button = box.querySelector(".accept-suggestion");
      button.addEventListener("click", function () {
        const radio = form.querySelector('input[name="answer__' + id + '"][value="' + box.getAttribute("data-suggested") + '"]');
        if (radio) { radio.checked = true; }
        const refs = box.getAttribute("data-refs");
        const field = form.querySelector('input[name="evidence__' + id + '"]');
        if (field && refs) {
          const have = field.value.split(",").map(function (x) { return x.trim(); }).filter(Boolean);
          refs.split(",").map(function (x) { return x.trim(); }).forEach(function (ref) {
            if (have.indexOf(ref) < 0) { have.push(ref); }
          });
          field.value = have.join(", ");
        }
        question.classList.add("accepted");
        form.dispatchEvent(new Event("change", { bubbles: true }));
        suggestionState(question);
      });
      question.addEventListener("change", function () { suggestionState(question); });
    });
  }
  function focusFirstError(form) {
    const first = form.querySelector(".question.has-error");
    if (!first) { return; }
    first.hidden = false;
    const input = first.querySelector("input, textarea, select");
    first.scrollIntoView({ block: "center" });
    if (input) { input.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("evaluation-form");
    if (!form) { return; }
    linkEvidence(form);
    linkSuggestions(form);
    focusFirstError(form);
    applyConditions(form);
    form.addEventListener("change", function () {
      applyConditions(form);
      preview(form);
      clearTimeout(saveTimer);
      saveTimer = setTimeout(function () { autosave(form); }, 1200);
    });
  });
})();
