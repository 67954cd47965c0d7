// Small enhancements only: every page works without this file.
(function () {
  "use strict";
  // Live character counters for text boxes, counting as the server does (``length`` in
  // forms/types/text.py): a line break is one character, and so is an emoji. No maxlength,
  // which would cut a paste without a word: over the limit the box keeps everything and the
  // counter says by how much. Screen readers hear it once typing pauses, not at every key.
  // The wording comes from the page, translated there: "{left} of {max} characters left".
  // Boxes a script adds later (a list entry added in place, static/entries.js) get theirs
  // from the "intake:added" event on what was added.
  var holder = document.querySelector("[data-counter]");
  var wording = holder && holder.getAttribute("data-counter");
  var countBox = function (box) {
    var counter = document.getElementById(box.id + "-count");
    if (!counter || !wording || box.hasAttribute("data-counted")) { return; }
    box.setAttribute("data-counted", "");
    var max = parseInt(box.getAttribute("data-limit"), 10);
    var overWording = counter.getAttribute("data-over") || wording;
    var spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.setAttribute("role", "status");
    counter.parentNode.insertBefore(spoken, counter.nextSibling);
    var timer = null;
    var wasOver = false;
    var update = function (speak) {
      var left = max - Array.from(box.value.replace(/\r\n/g, "\n")).length;
      var over = left < 0;
      counter.textContent = over
        ? overWording.replace("{over}", String(-left)).replace("{max}", String(max))
        : wording.replace("{left}", String(left)).replace("{max}", String(max));
      counter.classList.toggle("over", over);
      if (speak && (over || wasOver)) {
        clearTimeout(timer);
        timer = setTimeout(function () { spoken.textContent = counter.textContent; }, 1000);
      }
      wasOver = over;
    };
    box.addEventListener("input", function () { update(true); });
    update(false);
  };
  var countBoxes = function (root) {
    root.querySelectorAll("input[data-limit], textarea[data-limit]").forEach(countBox);
  };
  countBoxes(document);
  document.addEventListener("intake:added", function (event) { countBoxes(event.target); });
  // Typing not yet saved: the browser asks before a reload, a closed tab or a link loses it.
  // Only this page's own buttons save, so sending the form clears the question.
  var unsaved = false;
  if (holder) {
    holder.addEventListener("input", function () { unsaved = true; });
    holder.addEventListener("submit", function () { unsaved = false; });
    window.addEventListener("beforeunload", function (event) {
      if (unsaved) { event.preventDefault(); event.returnValue = ""; }
    });
  }
  // "None of these", "Not sure" and "Prefer not to say" clear the other choices, and back.
  // Listened for on the document: boxes added later (a new list entry) are covered too.
  var lone = ["none", "not_sure", "prefer_not", "no_change", "never_tested"];
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox]") || !box.checked) { return; }
    var group = document.querySelectorAll("input[type=checkbox][name='" + box.name + "']");
    var exclusive = lone.indexOf(box.value) !== -1;
    group.forEach(function (other) {
      if (other !== box && (exclusive || lone.indexOf(other.value) !== -1)) { other.checked = false; }
    });
  });
  // "Send my answers", at the top and the bottom of the review page: once pressed, both say it
  // is working and neither sends again (a second press is ignored). The server sends once
  // however often it is asked; this spares the patient a wait without a word, and the doubt.
  var sendForms = document.querySelectorAll("form[data-send-once]");
  var sending = false;
  var showSending = function (on, pressed) {
    sending = on;
    sendForms.forEach(function (form) {
      var button = form.querySelector("button[type=submit]");
      var status = form.querySelector(".sending");
      if (!button.hasAttribute("data-label")) { button.setAttribute("data-label", button.textContent); }
      button.textContent = button.getAttribute(on ? "data-sending-label" : "data-label");
      button.setAttribute("aria-disabled", on ? "true" : "false");
      status.textContent = on && form === pressed ? form.getAttribute("data-sending") : "";
      status.classList.toggle("visually-hidden", !(on && form === pressed));
    });
  };
  sendForms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (sending) { event.preventDefault(); return; }
      showSending(true, form);
    });
  });
  // Back to this page from the browser's cache (after the answers were sent, or the send was
  // stopped): the buttons work again; the server answers a second send with the done page.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && sendForms.length) { showSending(false, null); }
  });
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    // A link in the summary scrolls to its question, not its input: the question's words and
    // its message stay in view above the box, and the box gets the focus.
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var input = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!input) { return; }
      event.preventDefault();
      var block = input;
      for (var up = input.parentElement; up && up.tagName !== "FORM"; up = up.parentElement) {
        if (!up.matches(".question, fieldset, .row-field")) { continue; }
        if (up.getBoundingClientRect().height > window.innerHeight * 0.9) { break; }
        block = up;
        if (up.matches(".question")) { break; }
      }
      block.scrollIntoView({ block: "start" });
      input.focus({ preventScroll: true });
    });
  }
  // Clinic pages: warn 2 minutes before the idle timeout, and offer to stay signed in. The server
  // says how many seconds the session has left (data-idle-seconds); "Stay signed in" posts the
  // notice's own form (with its CSRF token) to the keep-alive and gets the new figure back.
  // Patient pages do the same (data-idle-warn: how long before, data-idle-scope: whose pages).
  var idleNotice = document.getElementById("idle-notice");
  var idleSeconds = parseInt(document.body.getAttribute("data-idle-seconds") || "", 10);
  var scope = document.body.getAttribute("data-idle-scope");
  var signedOutKey = scope && "intake-signed-out-" + scope;
  // A page that says this browser signed out tells the other tabs of the same pages, which
  // then act as when the session ends (a shared computer shows nobody's answers in them).
  if (document.querySelector("[data-signed-out]")) {
    try { window.localStorage.setItem("intake-signed-out-patient", String(Date.now())); } catch (e) { /* storage off */ }
  }
  if (idleNotice && !isNaN(idleSeconds)) {
    var warnBefore = (parseInt(document.body.getAttribute("data-idle-warn") || "", 10) || 120) * 1000;
    var endsAt = Date.now() + idleSeconds * 1000;
    var showing = null;
    var show = function (part) {
      if (part === showing) { return; }
      showing = part;
      idleNotice.hidden = part === null;
      idleNotice.querySelectorAll("[data-idle-part]").forEach(function (element) {
        element.hidden = element.getAttribute("data-idle-part") !== part;
      });
    };
    // Typed but not sent: when the session ends, the page stays, so nothing typed is lost.
    // Otherwise it is asked for again, and the server sends it to the sign-in page: patient
    // details must not stay on an unattended screen after the sign-out.
    var typed = false;
    document.addEventListener("input", function (event) {
      if (!idleNotice.contains(event.target)) { typed = true; }
    });
    // A clock check, not one long timer: background tabs delay timers, and a laptop sleeps.
    var check = function () {
      var left = endsAt - Date.now();
      if (left <= 0 && !typed) {
        window.location.replace(window.location.href.split("#")[0]);
        return;
      }
      show(left <= 0 ? "ended" : left <= warnBefore ? "warn" : null);
    };
    var keepalive = idleNotice.querySelector("form");
    keepalive.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(keepalive.action, {
        method: "POST",
        body: new FormData(keepalive),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        // 401 (signed out) or 400 {"signed_in": false} (the session ended): the server says so.
        if (response.status === 401 || response.status === 400) { return { ended: true }; }
        if (!response.ok) { throw new Error("server busy"); }
        return response.json();
      }).then(function (data) {
        endsAt = data.ended ? 0 : Date.now() + data.idle_seconds * 1000;
        check();
      }).catch(function () {
        // No answer (a network blip, a busy server): the session may well be alive, so the page
        // says nothing new; its own clock goes on, and the next press or typing asks again.
      });
    });
    if (signedOutKey) {
      window.addEventListener("storage", function (event) {
        if (event.key === signedOutKey) { endsAt = 0; check(); }
      });
    }
    check();
    setInterval(check, 5000);
  }
})();
// Typing counts as activity for the patient's idle timeout: a patient writing one long answer
// is neither warned nor signed out while typing. An input event (a key, a tick, a choice) sends
// the idle notice's own "Stay signed in" (its handler above restarts the server's clock and
// this page's), at most once every few minutes, never a request per key, and not once the
// session has ended. The page's load was the server's last activity.
(function () {
  "use strict";
  var notice = document.getElementById("idle-notice");
  var stay = notice && notice.querySelector("form");
  if (!stay || document.body.getAttribute("data-idle-scope") !== "patient") { return; }
  var every = 3 * 60 * 1000;
  var last = Date.now();
  document.addEventListener("input", function (event) {
    if (notice.contains(event.target) || Date.now() - last < every) { return; }
    var ended = notice.querySelector("[data-idle-part=ended]");
    if (!notice.hidden && ended && !ended.hidden) { return; }
    last = Date.now();
    // A script's submit event only runs the handler: the form itself is never sent.
    stay.dispatchEvent(new Event("submit", { cancelable: true }));
  });
})();
// The page after sending, while the background worker makes the patient's copy: ask every few
// seconds how it stands, and once it is ready (or the link ended), put the parts of a fresh copy
// of this page marked data-copy-part in place of these (the copy's part is a live region: it is
// announced). Without this file the page's link answers "being made, try again".
(function () {
  "use strict";
  var section = document.querySelector("[data-copy-status]");
  if (!section || !window.fetch || !window.DOMParser) { return; }
  var url = section.getAttribute("data-copy-status");
  var tries = 0;
  var refresh = function () {
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var drawnFor = fresh.querySelector("[data-copy-for]");
        // Someone else signed in on this browser meanwhile: never put their copy in this page.
        if (!drawnFor || drawnFor.getAttribute("data-copy-for") !== section.getAttribute("data-copy-for")) { return; }
        document.querySelectorAll("[data-copy-part]").forEach(function (part) {
          var replacement = fresh.getElementById(part.id);
          if (replacement) { part.innerHTML = replacement.innerHTML; }
        });
      });
  };
  var ask = function () {
    tries += 1;
    if (tries > 90) { return; }  // three minutes: past that, something else is wrong
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) { return { state: "stop" }; }
        return response.ok ? response.json() : { state: "making" };  // a busy server: again
      })
      .then(function (body) {
        if (body.state === "making") { window.setTimeout(ask, 2000); return; }
        if (body.state === "ready" || body.state === "gone") { refresh(); }
      }, function () { window.setTimeout(ask, 2000); });
  };
  window.setTimeout(ask, 1000);
})();
