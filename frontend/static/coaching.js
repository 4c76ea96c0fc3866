// The coaching form's question picker: typing filters the questions by their text (ticked ones stay visible).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-question-filter]").forEach(function (input) {
      const list = input.closest("fieldset").querySelector(".question-list");
      input.addEventListener("input", function () {
        const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        list.querySelectorAll("[data-question-text]").forEach(function (label) {
          const text = label.getAttribute("data-question-text");
          const ticked = label.querySelector("input").checked;
          label.hidden = !ticked && !words.every(function (w) { return text.indexOf(w) >= 0; });
        });
      });
    });
  });
})();
