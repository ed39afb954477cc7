// smweb's small page glue. Loaded as a file (the CSP forbids inline script); every page works
// without it.
(function () {
  "use strict";

  // Upload progress: htmx reports it on the element that sent the request.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest("form");
    var bar = form && form.querySelector("[data-upload-progress]");
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });

  // Files over the limits are refused here before they travel: on a slow link, a patient
  // should not wait minutes to be told a file is too large. The server checks again.
  function describe(input) {
    var maxFiles = Number(input.dataset.maxFiles);
    var maxFile = Number(input.dataset.maxFileBytes);
    var maxTotal = Number(input.dataset.maxTotalBytes);
    var files = Array.prototype.slice.call(input.files || []);
    var total = 0;
    var problems = [];
    if (files.length > maxFiles) {
      problems.push("You chose " + files.length + " files; at most " + maxFiles + " can be attached.");
    }
    files.forEach(function (file) {
      total += file.size;
      if (file.size > maxFile) {
        problems.push(file.name + ": the file is larger than " + Math.round(maxFile / 1048576) + " MB.");
      }
    });
    if (total > maxTotal) {
      problems.push("All attachments together may be at most " + Math.round(maxTotal / 1048576) + " MB.");
    }
    return problems;
  }

  document.addEventListener("htmx:confirm", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxFiles) {
      return;
    }
    var problems = describe(input);
    var notice = input.form && input.form.querySelector("[data-file-problems]");
    if (notice) {
      notice.textContent = problems.join(" ");
      notice.hidden = problems.length === 0;
    }
    if (problems.length) {
      event.preventDefault();
      input.value = "";
    }
  });
})();

// After a page loads with errors, or htmx swaps in a form with errors or a notice, move the
// keyboard and screen-reader focus there: otherwise it is lost with the replaced elements.
(function () {
  "use strict";
  function focusNotice(root) {
    var target = (root || document).querySelector("[data-focus-after-swap]");
    if (target) {
      target.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () { focusNotice(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.id !== "message-list" &&
        event.detail.elt.id !== "queue-list") {
      focusNotice(event.detail.elt);
    }
  });
})();

// The print page's Print button: shown only when JavaScript can press it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-print]");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    }
  });
})();

// The idle timeout. The server says how many seconds the session has left (on the page, and
// in a header on every htmx answer); a minute before the end a dialog offers to stay signed
// in. At the end the page signs out, so nothing stays on screen of a shared workstation.
// Before either step the server is asked again: another tab may have kept the session alive.
(function () {
  "use strict";
  var deadline = null;
  var timer = null;

  function box() { return document.getElementById("session-timeout"); }

  function hide() {
    var dialog = box();
    if (dialog) { dialog.hidden = true; }
  }

  function setRemaining(seconds) {
    if (isNaN(seconds)) { return; }
    deadline = Date.now() + seconds * 1000;
    var dialog = box();
    if (dialog && !dialog.hidden && seconds > Number(dialog.dataset.warning)) { hide(); }
  }

  function askServer(then) {
    var dialog = box();
    if (!dialog) { return; }
    var url = dialog.dataset.statusUrl + "?poll=1";
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        var left = response.headers.get("Smweb-Session-Remaining");
        then(left !== null ? Number(left) : 0);
      })
      .catch(function () { then(null); });
  }

  function signOut() {
    var form = document.querySelector("[data-timeout-sign-out]");
    if (form) {
      form.elements.reason.value = "idle";
      form.submit();
    }
  }

  function show(secondsLeft) {
    var dialog = box();
    if (!dialog) { return; }
    var countdown = dialog.querySelector("[data-countdown]");
    if (countdown) {
      countdown.textContent = secondsLeft + (secondsLeft === 1 ? " second" : " seconds");
    }
    if (dialog.hidden) {
      dialog.hidden = false;
      dialog.querySelector("[data-stay]").focus();
    }
  }

  var asking = false;
  function tick() {
    var dialog = box();
    if (!dialog || deadline === null || asking) { return; }
    var left = Math.ceil((deadline - Date.now()) / 1000);
    var warning = Number(dialog.dataset.warning);
    if (left > warning) { return; }
    if (left > 0 && !dialog.hidden) { show(left); return; }
    asking = true;
    askServer(function (serverLeft) {
      asking = false;
      if (serverLeft === null) { return; }  // the network failed: try again next tick
      if (serverLeft <= 0) { signOut(); return; }
      setRemaining(serverLeft);
      if (serverLeft <= warning) { show(serverLeft); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var dialog = box();
    if (dialog) {
      setRemaining(Number(dialog.dataset.remaining));
      timer = timer || window.setInterval(tick, 1000);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var left = xhr && xhr.getResponseHeader("Smweb-Session-Remaining");
    if (left !== null && left !== undefined) { setRemaining(Number(left)); }
  });
})();
