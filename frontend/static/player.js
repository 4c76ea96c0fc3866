// The call player: click a transcript line or the timeline to seek; while playing, the current line is
// highlighted and kept in view inside the transcript, and the playhead moves along the timeline.
(function () {
  "use strict";
  function init(root) {
    var audio = root.querySelector("[data-player-audio]");
    var transcript = root.querySelector("[data-transcript]");
    var svg = root.querySelector(".timeline-svg");
    var playhead = root.querySelector("[data-playhead]");
    var lines = transcript ? Array.prototype.slice.call(transcript.querySelectorAll("li[data-start]")) : [];
    var duration = svg ? parseFloat(svg.getAttribute("data-duration")) || 0 : 0;
    var current = null;

    function seek(seconds) {
      if (!audio) { return; }
      audio.currentTime = Math.max(0, seconds);
      var played = audio.play();
      if (played && played.catch) { played.catch(function () {}); }
      highlight(seconds);
    }

    function highlight(t) {
      var found = null;
      for (var i = 0; i < lines.length; i++) {
        var start = parseFloat(lines[i].getAttribute("data-start"));
        var end = parseFloat(lines[i].getAttribute("data-end"));
        if (t >= start && t < end + 0.05) { found = lines[i]; }
        if (start > t) { break; }
      }
      if (found !== current) {
        if (current) { current.removeAttribute("aria-current"); }
        if (found) {
          found.setAttribute("aria-current", "true");
          var box = transcript.getBoundingClientRect(), row = found.getBoundingClientRect();
          if (row.top < box.top || row.bottom > box.bottom) {
            transcript.scrollTop += row.top - box.top - box.height / 3;
          }
        }
        current = found;
      }
      if (playhead && duration > 0) {
        playhead.setAttribute("x", String(Math.min(998, 1000 * t / duration)));
      }
    }

    lines.forEach(function (li) {
      li.addEventListener("click", function () { seek(parseFloat(li.getAttribute("data-start"))); });
    });
    if (svg && duration > 0) {
      svg.addEventListener("click", function (event) {
        var box = svg.getBoundingClientRect();
        seek(duration * (event.clientX - box.left) / box.width);
      });
    }
    if (audio) {
      audio.addEventListener("timeupdate", function () { highlight(audio.currentTime); });
      audio.addEventListener("seeked", function () { highlight(audio.currentTime); });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var players = document.querySelectorAll("[data-player]");
    Array.prototype.forEach.call(players, init);
    // Evidence timestamps elsewhere on the page (an evaluation's answers) play the call from that point.
    var audio = document.querySelector("[data-player] [data-player-audio]");
    Array.prototype.forEach.call(document.querySelectorAll("button.evidence[data-seek]"), function (button) {
      if (!audio) { button.disabled = true; return; }
      button.addEventListener("click", function () {
        audio.currentTime = parseFloat(button.getAttribute("data-seek"));
        var played = audio.play();
        if (played && played.catch) { played.catch(function () {}); }
        audio.scrollIntoView({ block: "center" });
      });
    });
  });
})();
