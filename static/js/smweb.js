// smweb's small page glue. Loaded as a file (the CSP forbids inline script); every page works
// without it.

// The words this file shows, in the page's language: base.html writes them, translated, into
// a JSON block (#page-words); %(name)s stands for a value.
function pageWords(key, values) {
  "use strict";
  var block = document.getElementById("page-words");
  var words = block ? JSON.parse(block.textContent) : {};
  return (words[key] || key).replace(/%\((\w+)\)s/g, function (_, name) {
    return values && name in values ? String(values[name]) : "";
  });
}

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
      problems.push(pageWords("too_many_files", {count: files.length, max: maxFiles}));
    }
    files.forEach(function (file) {
      total += file.size;
      if (file.size > maxFile) {
        problems.push(pageWords("file_too_large", {name: file.name, mb: Math.round(maxFile / 1048576)}));
      }
    });
    if (total > maxTotal) {
      problems.push(pageWords("files_too_large", {mb: Math.round(maxTotal / 1048576)}));
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

// Send while files are still uploading. Choosing files posts the form at once, and only the
// form's Attachments fieldset comes back; a Send (or Save draft) pressed meanwhile waits in
// the form's own htmx queue (hx-sync "this:queue all" on the form, "closest form:queue all"
// on the file picker) and then goes from the same form, with the draft the upload made. The
// server is right without this script too (it finds the draft by the form's key, and refuses
// a send that overtakes an upload). This glue only keeps the person informed: it says that
// the Send is waiting, and it holds back a queued Send when one of the files was refused,
// since the person has not yet seen why.
(function () {
  "use strict";
  var uploads = {};  // form id -> uploads of that form in flight

  function statusOf(form) { return form && form.querySelector("[data-send-status]"); }
  function say(form, text) {
    var line = statusOf(form);
    if (line) { line.textContent = text; }
  }
  function formOf(event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && elt.closest ? elt.closest("form[data-message-form]") : null;
    return form || (event.target.closest && event.target.closest("form[data-message-form]"));
  }
  function pressed(event) {
    var config = event.detail && event.detail.requestConfig;
    return config && config.formData ? config.formData.get("action") : null;
  }
  // An upload is a post of the form with action=attach: the file picker's (hx-vals), or the
  // "Attach files" button's. (By htmx:beforeSwap, detail.elt is the target, not the picker.)
  function isUpload(event) { return pressed(event) === "attach"; }

  // "Uploading…" and its bar, put in the Attachments box while files go (and in no page
  // before: a text browser would show it as text). The answer's box replaces it.
  function progressLine(form) {
    var picker = form.querySelector("[data-upload]");
    var box = picker && picker.closest("fieldset");
    if (!box) { return null; }
    var existing = box.querySelector(".upload-progress");
    if (existing) { return existing; }
    var line = document.createElement("p");
    line.className = "upload-progress";
    line.setAttribute("role", "status");
    line.appendChild(document.createTextNode(picker.dataset.uploading + " "));
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("data-upload-progress", "");
    line.appendChild(bar);
    box.appendChild(line);
    return line;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = formOf(event);
    if (!form) { return; }
    if (isUpload(event)) {
      // Counted when the files were chosen (below); the file picker is replaced when the
      // answer is swapped in, so the end of the upload is watched on its request.
      var id = form.id;
      form.dataset.uploadRefused = "";
      var line = progressLine(form);
      event.detail.xhr.addEventListener("loadend", function () {
        // Gone with the answer's swap; if nothing is swapped in (a network error, a 5xx)
        // it must not stay saying "Uploading…".
        if (line && line.isConnected) { line.remove(); }
        uploads[id] = Math.max(0, uploads[id] - 1);
        var now = document.getElementById(id);
        if (now && !uploads[id]) { now.dataset.sendWaiting = ""; }
      });
      return;
    }
    // A Send that waited in the queue may carry no button (htmx remembers the button pressed
    // only briefly); the server takes a form without one as Send, and so does this.
    var action = pressed(event);
    if ((action === "send" || action === null) && form.dataset.uploadRefused === "held") {
      // This Send was queued behind an upload the server refused: don't send without it.
      event.preventDefault();
      form.dataset.uploadRefused = "";
      form.dataset.sending = "";
      say(form, pageWords("file_refused"));
    }
  });

  // An upload's answer, just before it is swapped in (and before htmx sends what waited in
  // the queue behind it): a refused file holds back a waiting Send.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = formOf(event);
    if (form && isUpload(event) && event.detail.xhr.status >= 400 &&
        form.dataset.sendWaiting === "1") {
      form.dataset.uploadRefused = "held";
    }
  });

  // An upload counts from the moment the files are chosen (or "Attach files" is pressed),
  // not from when its request starts: it may first wait in the form's queue behind an
  // autosave, and a Send pressed then must still say that it waits for the files.
  function started(form) { uploads[form.id] = (uploads[form.id] || 0) + 1; }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[data-upload]") && input.files.length &&
        input.form) {
      started(input.form);
    }
  }, true);
  // Files refused here before they travel (the limits check above) are no upload at all.
  document.addEventListener("htmx:confirm", function (event) {
    var input = event.target;
    if (event.defaultPrevented && input.matches && input.matches("input[data-upload]") &&
        input.form && uploads[input.form.id]) {
      uploads[input.form.id] -= 1;
    }
  });

  // A Send already on its way (or waiting in the queue) is not sent a second time by a
  // double click or a second Enter: the server would send once anyway, but the second answer
  // would load the page again over the first (and its notice).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = formOf(event);
    var action = pressed(event);
    if (form && (action === "send" || action === null) &&
        !event.detail.xhr.getResponseHeader("HX-Location")) {
      form.dataset.sending = "";  // not sent (the form came back, or the link failed)
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[name=action]");
    var form = button && button.form;
    if (!form || !form.hasAttribute("data-message-form")) { return; }
    if (button.value === "send" && form.dataset.sending === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.uploadRefused = "";  // the person pressed again, having seen the notice
    if (button.value === "attach") { started(form); }
    if (button.value === "send") { form.dataset.sending = "1"; }
    if (button.value === "send" && uploads[form.id]) {
      form.dataset.sendWaiting = "1";
      say(form, pageWords("still_uploading"));
    }
  }, true);
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
  // The title starts with "Error:" while the page shows an error, as a full page's does:
  // a screen reader reads the title first, and a tab's title shows it too.
  var PREFIX = pageWords("error_prefix");
  function markTitle() {
    var showing = document.querySelector(".error-summary, .field__error:not([hidden])");
    var title = document.title;
    if (showing && title.indexOf(PREFIX) !== 0) {
      document.title = PREFIX + title;
    } else if (!showing && title.indexOf(PREFIX) === 0) {
      document.title = title.slice(PREFIX.length);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { focusNotice(document); });
  document.addEventListener("htmx:afterSettle", markTitle);
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && !elt.hasAttribute("data-refreshing-list")) {
      focusNotice(event.detail.elt);
    }
  });
})();

// A list refreshing itself (the Inbox, the staff queue) never undoes what the person is
// doing: while a box is ticked or a control of the list has the focus, the refresh waits for
// the next turn; when it brings conversations that were not there, a polite status outside
// the list says so ("1 new message").
(function () {
  "use strict";
  var fresh = 0;
  function polling(event) {
    var elt = event.detail && event.detail.elt;
    var path = event.detail && event.detail.pathInfo && event.detail.pathInfo.requestPath;
    return elt && elt.hasAttribute("data-refreshing-list") && path &&
      path.indexOf("poll=1") >= 0;
  }
  function busy(list) {
    if (list.querySelector("input[type=checkbox]:checked")) { return true; }
    return list.contains(document.activeElement);  // a link, a select, a button: in use
  }
  function shown(root) {
    var ids = {};
    root.querySelectorAll("a[id^='thread-']").forEach(function (a) { ids[a.id] = true; });
    return ids;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (polling(event) && busy(event.detail.elt)) { event.preventDefault(); }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!polling(event) || !event.detail.shouldSwap) { return; }
    var before = shown(event.detail.elt);
    var incoming = new DOMParser().parseFromString(event.detail.serverResponse, "text/html");
    fresh = Object.keys(shown(incoming)).filter(function (id) { return !before[id]; }).length;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var news = document.getElementById("list-news");
    if (!news || !fresh) { return; }
    var text = pageWords(fresh === 1 ? "one_new_message" : "new_messages", {num: fresh});
    fresh = 0;
    news.textContent = "";  // emptied first: the same words again are read out again
    window.setTimeout(function () { news.textContent = text; }, 50);
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
// The dialog itself comes with the first of those answers: no page holds it until then.
(function () {
  "use strict";
  var deadline = null;
  var timer = null;
  var updates = 0;  // figures the server sent with other requests (htmx answers)
  // Where the person was when the dialog took the focus: it goes back there after.
  var returnTo = null;

  function slot() { return document.getElementById("session-timeout-slot"); }
  function box() { return document.getElementById("session-timeout"); }
  function warning() { return Number(slot().dataset.warning); }

  function hide() {
    var dialog = box();
    if (dialog && !dialog.hidden) {
      // Back where the person was, if the focus is still in the dialog (not if they went
      // on typing in the page meanwhile).
      var inDialog = dialog.contains(document.activeElement);
      dialog.hidden = true;
      if (inDialog && returnTo && document.body.contains(returnTo)) { returnTo.focus(); }
      returnTo = null;
    }
  }

  function setRemaining(seconds) {
    if (isNaN(seconds) || !slot()) { return; }
    deadline = Date.now() + seconds * 1000;
    if (seconds > warning()) { hide(); }
  }

  function askServer(then) {
    var holder = slot();
    if (!holder) { return; }
    var url = holder.dataset.statusUrl + "?poll=1";
    if (!box()) {
      url += "&dialog=1&next=" + encodeURIComponent(location.pathname + location.search);
    }
    // An answer that takes over 10 s is given up (the next tick asks again); one that comes
    // after a newer figure arrived with another request is not believed.
    var seen = updates;
    var giveUp = new AbortController();
    var timeout = window.setTimeout(function () { giveUp.abort(); }, 10000);
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin",
                 signal: giveUp.signal })
      .then(function (response) {
        window.clearTimeout(timeout);
        if (updates !== seen) { then(null); return null; }
        var header = response.headers.get("Smweb-Session-Remaining");
        var left = header !== null ? Number(header) : 0;
        if (response.status !== 200 || box() || response.headers.get("HX-Redirect")) {
          then(left);
          return null;
        }
        return response.text().then(function (html) {
          if (html.indexOf('id="session-timeout"') >= 0 && !box()) {
            holder.innerHTML = html;
            if (window.htmx) { window.htmx.process(holder); }
          }
          then(left);
        });
      })
      .catch(function () { window.clearTimeout(timeout); then(null); });
  }

  function signOut() {
    var form = document.querySelector("[data-timeout-sign-out]");
    if (form) {
      form.elements.reason.value = "idle";
      form.submit();
    } else {  // the session is over and the warning never came: leave the page all the same
      window.location.replace(slot().dataset.signedOutUrl);
    }
  }

  function show(secondsLeft) {
    var dialog = box();
    if (!dialog) { return; }
    var countdown = dialog.querySelector("[data-countdown]");
    if (countdown) {
      countdown.textContent = pageWords(secondsLeft === 1 ? "one_second" : "seconds",
                                        {num: secondsLeft});
    }
    if (dialog.hidden) {
      var active = document.activeElement;
      returnTo = active && active !== document.body && !dialog.contains(active) ? active : null;
      dialog.hidden = false;
      dialog.querySelector("[data-stay]").focus();
    }
  }

  var asking = false;
  function tick() {
    if (!slot() || deadline === null || asking) { return; }
    var left = Math.ceil((deadline - Date.now()) / 1000);
    if (left > warning()) { return; }
    var dialog = box();
    if (left > 0 && dialog && !dialog.hidden) { show(left); return; }
    asking = true;
    askServer(function (serverLeft) {
      asking = false;
      if (serverLeft === null) { return; }  // the network failed: try again next tick
      if (serverLeft <= 0) { signOut(); return; }
      setRemaining(serverLeft);
      if (serverLeft <= warning()) { show(serverLeft); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = slot();
    if (holder) {
      setRemaining(Number(holder.dataset.remaining));
      timer = timer || window.setInterval(tick, 1000);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var left = xhr && xhr.getResponseHeader("Smweb-Session-Remaining");
    if (left !== null && left !== undefined) {
      updates += 1;
      setRemaining(Number(left));
    }
  });
})();
