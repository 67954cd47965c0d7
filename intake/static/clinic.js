// The link page: a Copy button (the link stays selectable by hand without this file).
(function () {
  "use strict";
  var box = document.getElementById("patient-link");
  var button = document.getElementById("copy-link");
  if (!box || !button) { return; }
  box.addEventListener("focus", function () { box.select(); });
  button.hidden = false;
  var label = button.textContent;
  button.addEventListener("click", function () {
    var done = function () {
      button.textContent = button.getAttribute("data-copied");
      window.setTimeout(function () { button.textContent = label; }, 2500);
    };
    box.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
