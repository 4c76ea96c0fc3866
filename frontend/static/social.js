// Live SLA clocks: every element with data-due shows "due in ..." or "breached by ..." and updates itself.
(function () {
  function human(seconds) {
    seconds = Math.abs(Math.round(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    return m + " min";
  }
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-due")) - Date.now()) / 1000;
      if (isNaN(left)) return;
      el.textContent = left >= 0 ? "due in " + human(left) : "breached by " + human(left);
      el.classList.toggle("breached", left < 0);
      el.classList.toggle("running", left >= 0);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
})();
