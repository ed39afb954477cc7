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
