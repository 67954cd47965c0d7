// "Same as for <an earlier topic>" filled in place (intake/patient/same_as.py), instead of the
// round trip its button makes without scripts. The page carries the earlier topic's answers in a
// <template> (never posted): the block's own answers are cleared, those put in, and each changed
// box announces its change, so that the follow-ups they open appear as they would for a patient
// ticking them one by one. Where the page lacks a box to fill (a follow-up it does not carry),
// the button does what it does without scripts: it saves the page and the server copies.
(function () {
  "use strict";
  var offer = document.getElementById("same-as");
  var values = document.getElementById("same-as-values");
  var form = document.getElementById("step-form");
  if (!offer || !values || !form) { return; }
  var button = offer.querySelector("button[name=action]");
  var names = (values.getAttribute("data-names") || "").split(" ").filter(Boolean);
  var boxes = function (name) {
    return Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
  };
  var copies = Array.prototype.map.call(values.content.querySelectorAll("input"), function (el) {
    return { name: el.name, value: el.value };
  });
  button.addEventListener("click", function (event) {
    var every = names.every(function (name) { return boxes(name).length > 0; });
    if (!every) { return; }  // the server copies (the page is saved first, as by any button)
    event.preventDefault();
    var changed = [];
    names.forEach(function (name) {
      var wanted = copies.filter(function (c) { return c.name === name; }).map(function (c) { return c.value; });
      boxes(name).forEach(function (box) {
        if (box.type === "checkbox" || box.type === "radio") {
          var on = wanted.indexOf(box.value) !== -1;
          if (box.checked !== on) { box.checked = on; changed.push(box); }
        } else if (box.value !== (wanted[0] || "")) {
          box.value = wanted[0] || "";
          changed.push(box);
        }
      });
    });
    // In the block's order, so that a follow-up is open before its own answer is announced.
    changed.forEach(function (box) {
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.dispatchEvent(new Event("change", { bubbles: true }));
    });
    var notice = document.createElement("div");
    notice.className = "notice";
    notice.id = "same-as";
    notice.setAttribute("role", "status");
    notice.tabIndex = -1;
    var words = document.createElement("p");
    words.textContent = values.getAttribute("data-done");
    notice.appendChild(words);
    offer.parentNode.replaceChild(notice, offer);
    notice.focus();
  });
})();
