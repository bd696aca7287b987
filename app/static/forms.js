// Live character counters for free text: "128 / 5000" under each field with data-max, red once
// over. The browser's own maxlength is not used on such fields because it cuts pasted text
// silently; the server refuses text over the limit with a message and keeps it in the form.
// Counts characters as the server does (code points; a line break is one).
(function () {
  "use strict";
  if (window.minshengForms) return; // htmx may load the script again on boosted navigation
  window.minshengForms = true;

  function length(text) {
    return Array.from(text).length;
  }

  function counterOf(field) {
    var id = (field.id || field.name) + "-count";
    var out = document.getElementById(id);
    if (!out) {
      out = document.createElement("p");
      out.id = id;
      out.className = "hint char-count";
      field.insertAdjacentElement("afterend", out);
    }
    return out;
  }

  function show(field) {
    var max = parseInt(field.dataset.max, 10);
    if (!max) return;
    var n = length(field.value);
    var out = counterOf(field);
    out.textContent = n + " / " + max;
    out.classList.toggle("over", n > max);
  }

  function setUp(root) {
    var fields = (root || document).querySelectorAll("[data-max]");
    for (var i = 0; i < fields.length; i++) show(fields[i]);
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.dataset && event.target.dataset.max) show(event.target);
  });
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
