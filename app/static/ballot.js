// The deputy's ballot pages (票决): the 赞成 counter with its limit, and 查验回执 in the browser.
// Plain script, no library; the pages work without it (the server checks everything again).
(function () {
  "use strict";
  if (window.minshengBallot) return; // htmx may load the script again on boosted navigation
  window.minshengBallot = true;

  // ------------------------------------------------------------ the ballot form (赞成 counter)
  function yesCount(form) {
    return form.querySelectorAll('input[type=radio][value=yes]:checked').length;
  }

  function showCount(form) {
    var seats = parseInt(form.dataset.seats, 10);
    var n = yesCount(form);
    var out = form.querySelector("#yes-count");
    if (out) out.textContent = String(n);
    form.classList.toggle("at-limit", n >= seats);
    return n;
  }

  function refuse(form, message) {
    var box = form.querySelector("#yes-limit");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function clearRefusal(form) {
    var box = form.querySelector("#yes-limit");
    if (box) box.hidden = true;
  }

  // Each candidate's mark before the change, so a refused 赞成 can be undone.
  var previous = new WeakMap();

  function remember(form) {
    form.querySelectorAll("input[type=radio]:checked").forEach(function (r) {
      previous.set(r.closest("fieldset"), r);
    });
  }

  document.addEventListener("change", function (event) {
    var radio = event.target;
    var form = radio.closest && radio.closest("#ballot-form");
    if (!form || radio.type !== "radio") return;
    var seats = parseInt(form.dataset.seats, 10);
    var fieldset = radio.closest("fieldset");
    if (radio.value === "yes" && yesCount(form) > seats) {
      // An S+1-th 赞成 is refused here, before anything is sent.
      var before = previous.get(fieldset);
      var fallback = fieldset.querySelector("input[value=abstain]");
      (before && before !== radio ? before : fallback).checked = true;
      refuse(form, form.dataset.limitMessage);
    } else {
      clearRefusal(form);
    }
    remember(form);
    showCount(form);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "ballot-form") {
      if (yesCount(form) > parseInt(form.dataset.seats, 10)) {
        event.preventDefault();
        refuse(form, form.dataset.limitMessage);
      }
    } else if (form.classList.contains("confirm-form")) {
      // A second tap would cast nothing and replace the receipt with 您已投票: send once.
      if (form.dataset.sent) event.preventDefault();
      form.dataset.sent = "1";
    } else if (form.id === "verify-form") {
      event.preventDefault(); // the code never leaves the device
      verify(form);
    }
  }, true); // capture: before anything else may act on the submit

  // ------------------------------------------------------------ 查验回执
  var ALIASES = { O: "0", I: "1", L: "1" };

  // The code as issued: 16 characters of Crockford base32 in groups of four, upper case
  // (receipt_digest() in app/ballotbox/receipts.py hashes it so).
  function normalize(text) {
    var plain = text.toUpperCase().replace(/[\s\-]/g, "").replace(/[OIL]/g, function (c) {
      return ALIASES[c];
    });
    if (!/^[0-9A-HJKMNP-TV-Z]{16}$/.test(plain)) return null;
    return plain.match(/.{4}/g).join("-");
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function say(form, message, found) {
    var out = document.getElementById("verify-result");
    out.textContent = message;
    out.className = found === true ? "ok" : found === false ? "error" : "notice";
    out.hidden = false;
  }

  function verify(form) {
    var code = normalize(document.getElementById("receipt-input").value);
    if (!code) return say(form, form.dataset.malformed);
    if (!(window.crypto && window.crypto.subtle)) return say(form, form.dataset.nocrypto);
    var receipts = JSON.parse(document.getElementById("receipts-data").textContent);
    window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(code)).then(function (d) {
      var found = receipts.indexOf(hex(d)) !== -1;
      say(form, found ? form.dataset.found : form.dataset.missing, found);
    });
  }

  // ------------------------------------------------------------ set-up, on load and after swaps
  function init(root) {
    var form = root.querySelector ? root.querySelector("#ballot-form") : null;
    if (form) {
      remember(form);
      showCount(form);
    }
    var check = root.querySelector ? root.querySelector("#verify-form") : null;
    if (check) check.hidden = false; // without JavaScript the page explains instead
    var explain = root.querySelector ? root.querySelector("#needs-js") : null;
    if (explain) explain.hidden = true;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
