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

// The intake page, while the background worker makes the PDF or sends it to the EHR: ask every
// few seconds how it stands, and reload the page once that has changed (its notice then says what
// happened). Without this file the page says to reload by hand.
(function () {
  "use strict";
  var marker = document.getElementById("worker-progress");
  if (!marker || !window.fetch) { return; }
  var url = marker.getAttribute("data-url");
  var seen = marker.getAttribute("data-progress");
  var tries = 0;
  var ask = function () {
    tries += 1;
    if (tries > 90) { return; }  // three minutes: past that, something else is wrong
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.progress !== seen) { window.location.reload(); return; }
        window.setTimeout(ask, 2000);
      }, function () { window.setTimeout(ask, 2000); });
  };
  window.setTimeout(ask, 1000);
})();
