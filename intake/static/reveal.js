// Follow-up questions shown and hidden in place as their gate is answered. Every page works
// without this file: the server then shows a follow-up after "Save and continue" reloads the
// step (intake/patient/reveal.py says which it draws hidden, and their conditions).
//
// Each follow-up the page may show or hide is a fieldset with data-when: the conditions of the
// catalog's enable-when whose gate is on this page, as the server reads them (forms/logic.py):
// any one of them holding, with its gate itself shown, shows it. Shown, the fieldset is enabled
// and holds a "_shown" input, so that "Save and continue" saves it and moves on; hidden, it is
// disabled, so nothing in it is sent and what was typed stays in the page.
//
// Focus stays where it is: the patient is choosing an answer, and moving them away from the
// radio button they just ticked would be disorienting (and would lose their place in the group).
// The new question is next in the tab order, right below, and a polite live region says how
// many questions appeared (or were hidden).
(function () {
  "use strict";
  var form = document.getElementById("step-form");
  var blocks = form ? Array.prototype.slice.call(form.querySelectorAll("fieldset[data-when]")) : [];
  // "Add more detail": drawn, or waiting in a template for the answers to call for it.
  var offerTemplate = document.getElementById("more-offer");
  var offer = form && form.querySelector(".detail[data-offer]");
  var offerData = offer || (offerTemplate && offerTemplate.content.querySelector(".detail"));
  if (!blocks.length && !offerData) { return; }
  var offered = offerData ? JSON.parse(offerData.getAttribute("data-offer")) : [];
  var status = document.getElementById("step-status");
  var byItem = {};
  blocks.forEach(function (block) {
    block.conditions = JSON.parse(block.getAttribute("data-when"));
    byItem[block.id.replace(/^q-/, "")] = block;
  });
  // The codes ticked for a question (its radio buttons or checkboxes, named by its item id).
  var given = function (itemId) {
    var codes = [];
    form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (input) {
      if (input.name === itemId && input.checked) { codes.push(input.value); }
    });
    return codes;
  };
  // As forms/logic.py's _holds: "!=" needs an answer that is none of the codes.
  var holds = function (condition) {
    var codes = given(condition.item);
    var hit = codes.some(function (code) { return condition.answers.indexOf(code) !== -1; });
    return condition.op === "!=" ? codes.length > 0 && !hit : hit;
  };
  // A gate without data-when is shown whatever this page's answers say.
  var shown = function (itemId) {
    var block = byItem[itemId];
    return !block || !block.hidden;
  };
  var words = function (element, kind, n) {
    var text = element.getAttribute("data-" + kind + (n === 1 ? "-one" : "-many")) || "";
    return text.replace("{n}", String(n));
  };
  var say = function (message) {
    if (!status || !message) { return; }
    status.textContent = "";
    // A moment later, so that the same words said twice in a row are said again.
    setTimeout(function () { status.textContent = message; }, 100);
  };
  var holdsAny = function (conditions) {
    return conditions.some(function (c) { return holds(c) && shown(c.item); });
  };
  // The offer counts the optional questions it would show now (those of no condition always);
  // it appears when it has any, and says so, and goes when it has none. Its words: "" if none.
  var updateOffer = function () {
    var now = offered.filter(function (o) { return !o.when.length || holdsAny(o.when); });
    var kept = now.filter(function (o) { return o.answered; }).length;
    if (!now.length) {
      if (offer) { offer.hidden = true; }
      return "";
    }
    if (!offer) {
      offerTemplate.parentNode.insertBefore(offerTemplate.content.cloneNode(true), offerTemplate);
      offer = form.querySelector(".detail[data-offer]");
    }
    var text = words(offer, "offer", now.length) + (kept ? " " + words(offer, "kept", kept) : "");
    var appeared = offer.hidden || offer.getAttribute("data-count") !== String(now.length);
    offer.setAttribute("data-count", String(now.length));
    offer.querySelector("[data-offer-text]").textContent = text;
    offer.hidden = false;
    return appeared ? text : "";
  };
  var apply = function (announce) {
    var appeared = 0;
    var went = 0;
    // In page order: a gate comes before what it opens (the catalog checks it), so each
    // block's gates are settled before it is.
    blocks.forEach(function (block) {
      var show = holdsAny(block.conditions);
      if (show === !block.hidden) { return; }
      block.hidden = !show;
      block.disabled = !show;
      if (show && !block.querySelector("input[name=_shown]")) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "_shown";
        input.value = block.id.replace(/^q-/, "");
        block.insertBefore(input, block.firstChild);
      }
      if (show) { appeared += 1; } else { went += 1; }
    });
    var offerWords = offerData ? updateOffer() : "";
    if (announce && status) {
      say([appeared ? words(status, "appeared", appeared) : "",
        went ? words(status, "went", went) : "", offerWords].join(" ").trim());
    }
  };
  form.addEventListener("change", function (event) {
    if (!event.target.matches("input[type=radio], input[type=checkbox]")) { return; }
    // After every other listener of this change (app.js clears the other boxes when "None of
    // these" is ticked): the page is judged as it then stands.
    setTimeout(function () { apply(true); }, 0);
  });
  // Drawn as the server read the answers; the browser may have restored others (Back, reload).
  apply(false);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { apply(false); }
  });
})();
