// Small enhancements only: every page works without this file.
(function () {
  "use strict";
  // Live character counters for text boxes.
  // The wording comes from the page, translated there: "{left} of {max} characters left".
  var holder = document.querySelector("[data-counter]");
  var wording = holder && holder.getAttribute("data-counter");
  document.querySelectorAll("input[maxlength][aria-describedby], textarea[maxlength]").forEach(function (box) {
    var counter = document.getElementById(box.id + "-count");
    if (!counter || !wording) { return; }
    var max = parseInt(box.getAttribute("maxlength"), 10);
    var update = function () {
      counter.textContent = wording.replace("{left}", String(max - box.value.length)).replace("{max}", String(max));
    };
    box.addEventListener("input", update);
    update();
  });
  // "None of these", "Not sure" and "Prefer not to say" clear the other choices, and back.
  var lone = ["none", "not_sure", "prefer_not", "no_change", "never_tested"];
  document.querySelectorAll("input[type=checkbox]").forEach(function (box) {
    box.addEventListener("change", function () {
      if (!box.checked) { return; }
      var group = document.querySelectorAll("input[type=checkbox][name='" + box.name + "']");
      var exclusive = lone.indexOf(box.value) !== -1;
      group.forEach(function (other) {
        if (other !== box && (exclusive || lone.indexOf(other.value) !== -1)) { other.checked = false; }
      });
    });
  });
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
