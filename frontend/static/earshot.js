// Earshot's small shared script: sends the CSRF token with fetch() calls and polls job progress.
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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-job]").forEach(pollJob);
  });
})();
