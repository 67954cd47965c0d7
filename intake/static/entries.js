// List entries (a medicine, a food) added and removed in place. Every page works without this
// file: "Save and add another" and "Remove entry N" then save the page and reload it.
//
// A new entry is the list's <template> (an empty entry the server drew with "__n__" for its
// number, as WTForms names rows: "<list>-<n>-<field>"), given the next number no entry of the
// page has had. The legends and "Remove entry N" say each entry's place; the names keep their
// numbers: WTForms reads rows in the order of their numbers, gaps and all, and numbers them
// again from 0 (its _compact_indices), while the error summary's links keep their boxes. A
// removed entry that the page was drawn with is named in a "_removed" input (its place then),
// so that the server, matching the rows to what is stored by place, does not give a box in
// error the stored value of the entry removed before it.
// Focus: a new entry's first box (the patient asked for it); after a removal, the first box of
// the entry now in its place, or of the one before, or "Add another entry". Each is said aloud.
(function () {
  "use strict";
  var NEW = "__n__";
  var ATTRIBUTES = ["id", "name", "for", "aria-describedby"];
  var status = document.getElementById("step-status");
  var say = function (text) {
    if (!status) { return; }
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 100);
  };
  // "<list>-__n__" to "<list>-<n>" where a name or id starts with it (or "f-" or "q-" and it).
  var swap = function (token, from, to) {
    var prefixes = ["", "f-", "q-"];
    for (var i = 0; i < prefixes.length; i += 1) {
      var start = prefixes[i] + from;
      if (token === start || token.indexOf(start + "-") === 0) {
        return prefixes[i] + to + token.slice(start.length);
      }
    }
    return token;
  };
  var rename = function (row, from, to) {
    var elements = [row].concat(Array.prototype.slice.call(row.querySelectorAll("*")));
    elements.forEach(function (element) {
      ATTRIBUTES.forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value === null) { return; }
        var tokens = value.split(" ").map(function (token) { return swap(token, from, to); });
        element.setAttribute(attribute, tokens.join(" "));
      });
    });
  };
  var firstBox = function (row) {
    return row && row.querySelector("input:not([type=hidden]), textarea");
  };
  document.querySelectorAll("fieldset.list[data-max-rows]").forEach(function (list) {
    var template = list.querySelector(":scope > template.list-new");
    var add = list.querySelector(":scope > button[value^='add:']");
    if (!template || !add) { return; }
    var listId = list.id.replace(/^f-/, "");
    var max = parseInt(list.getAttribute("data-max-rows"), 10);
    var words = function (name, n) {
      return (list.getAttribute("data-" + name) || "").replace("{n}", String(n));
    };
    var rows = function () {
      return Array.prototype.slice.call(list.querySelectorAll(":scope > fieldset.list-row"));
    };
    // Every entry gets a "Remove entry N" that removes it here (the server draws one only for
    // entries with something in them; one added here by mistake must be removable too).
    var prepare = function (row) {
      var button = row.querySelector(":scope > button");
      if (!button) {
        button = template.content.querySelector("fieldset.list-row > button").cloneNode(true);
        row.appendChild(button);
      }
      button.type = "button";
      button.removeAttribute("name");
      button.removeAttribute("value");
      button.setAttribute("data-remove-entry", "");
    };
    var renumber = function () {
      var all = rows();
      all.forEach(function (row, place) {
        row.querySelector(":scope > legend").textContent = words("entry", place + 1);
        row.querySelector(":scope > button[data-remove-entry]").textContent = words("remove", place + 1);
      });
      add.hidden = all.length >= max;
      return all;
    };
    // The next number for a new entry: past every entry's, so that no two rows share one.
    var next = 0;
    rows().forEach(function (row, place) {
      row.setAttribute("data-drawn", String(place));
      prepare(row);
      row.querySelectorAll("[name]").forEach(function (input) {
        var number = parseInt(input.name.slice(listId.length + 1), 10);
        if (input.name.indexOf(listId + "-") === 0 && number >= next) { next = number + 1; }
      });
    });
    add.type = "button";
    add.removeAttribute("name");
    add.removeAttribute("value");
    add.textContent = words("add");
    renumber();

    add.addEventListener("click", function () {
      var place = rows().length;
      if (place >= max) { return; }
      var fragment = template.content.cloneNode(true);
      var row = fragment.querySelector("fieldset.list-row");
      rename(row, listId + "-" + NEW, listId + "-" + next);
      next += 1;
      prepare(row);
      list.insertBefore(fragment, template);
      var full = renumber().length >= max;
      row.dispatchEvent(new CustomEvent("intake:added", { bubbles: true }));
      firstBox(row).focus();
      say(words("added", place + 1) + (full ? " " + list.getAttribute("data-full") : ""));
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-remove-entry]");
      var row = button && button.parentElement;
      if (!row || row.parentElement !== list) { return; }
      var place = rows().indexOf(row);
      if (row.hasAttribute("data-drawn")) {
        var removed = document.createElement("input");
        removed.type = "hidden";
        removed.name = "_removed";
        removed.value = listId + ":" + row.getAttribute("data-drawn");
        list.appendChild(removed);
      }
      list.removeChild(row);
      var rest = renumber();
      (firstBox(rest[place] || rest[place - 1]) || add).focus();
      say(words("removed", place + 1));
      // The page now holds a change not saved yet (app.js asks before leaving it).
      list.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
})();
