// Review case and meeting pages: one form each (data-sheet). Warn before leaving the page by a link while
// something typed is not saved yet; any button of the form saves everything, so submitting clears the warning.
(function () {
  "use strict";
  document.querySelectorAll("form[data-sheet]").forEach(function (form) {
    var dirty = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });
})();
