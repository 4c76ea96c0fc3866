// The interaction page's analysis (sentiment per turn, categories, auto-QA answers with their evidence):
// the analytics feature renders the panel; this loads it in place, or says why it is not there.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-analytics-panel]").forEach(function (box) {
      const status = box.querySelector("[data-panel-status]");
      fetch(box.getAttribute("data-analytics-panel"), { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { throw new Error(String(r.status)); }
          return r.text();
        })
        .then(function (html) {
          const holder = document.createElement("div");
          holder.innerHTML = html;  // server-rendered and escaped by the template, same origin
          if (status) { status.remove(); }
          box.appendChild(holder);
        })
        .catch(function () { if (status) { status.textContent = "No analysis to show for this interaction."; } });
    });
  });
})();
