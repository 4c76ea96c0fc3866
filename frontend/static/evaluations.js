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
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("evaluation-form");
    if (!form) { return; }
    applyConditions(form);
    form.addEventListener("change", function () { applyConditions(form); preview(form); });
  });
})();
