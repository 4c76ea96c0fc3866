// Earshot's small shared script: sends the CSRF token with fetch() calls, sends a form once per click and polls
// job progress.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  window.earshotFetch = function (url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({}, opts.headers || {});
    if (meta && opts.method && opts.method.toUpperCase() !== "GET") {
      opts.headers["X-CSRF-Token"] = meta.content;
    }
    return fetch(url, opts);
  };
  // Any element with data-poll-job="ID" shows that job's progress until it ends.
  function pollJob(el) {
    const id = el.getAttribute("data-poll-job");
    // Reload only for a job seen unfinished here: a job already done when the page loaded would otherwise
    // reload the page for ever.
    let sawUnfinished = false;
    const tick = function () {
      window.earshotFetch("/api/jobs/" + id).then(function (r) { return r.json(); }).then(function (job) {
        const bar = el.querySelector("progress");
        const text = el.querySelector(".job-text");
        if (bar) { bar.value = job.progress; }
        if (text) {
          text.textContent = job.status === "failed" ? "Failed: " + (job.error || "unknown error")
            : job.status === "done" ? "Done" : (job.progress_message || job.status);
        }
        el.setAttribute("data-status", job.status);
        if (job.status !== "done" && job.status !== "failed") { sawUnfinished = true; setTimeout(tick, 1000); }
        else if (sawUnfinished && el.hasAttribute("data-reload-when-done") && job.status === "done") {
          window.location.reload();
        }
      }).catch(function () { setTimeout(tick, 3000); });
    };
    tick();
  }
  // A form is sent once per click: a second click (or Enter) while the page waits for the answer is ignored,
  // so a double click cannot send the same page twice (the server refuses a second sending anyway:
  // app/auth/forms.py). The button is not disabled, so the clicked button's name and value still go.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") {
      return;
    }
    if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
    form.setAttribute("data-sending", "");
    form.setAttribute("aria-busy", "true");
  });
  // Back to a page kept by the browser: its forms can be sent again (the server decides whether they act).
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      form.removeAttribute("data-sending");
      form.removeAttribute("aria-busy");
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-job]").forEach(pollJob);
  });
})();
