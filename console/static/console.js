// forcesync console: the one script, of our own. The pages work without it;
// it only refreshes live pages while nobody is typing or has something
// selected, so counts and charts move on their own.
(function () {
  "use strict";
  var el = document.querySelector("[data-refresh]");
  if (!el) return;
  var seconds = parseInt(el.getAttribute("data-refresh"), 10);
  if (!(seconds > 0)) return;
  function busy() {
    var a = document.activeElement;
    if (a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA")) return true;
    if (document.querySelector("input[type=checkbox]:checked")) return true;
    if (document.querySelector("details[open]")) return true;
    return false;
  }
  setInterval(function () {
    if (localStorage.getItem("forcesync.live") === "off") return;
    if (!document.hidden && !busy()) window.location.reload();
  }, seconds * 1000);
})();

// Live updates can be turned off (remembered in this browser).
(function () {
  "use strict";
  var el = document.querySelector("[data-refresh]");
  if (!el) return;
  var b = document.createElement("button");
  b.type = "button";
  function label() { b.textContent = localStorage.getItem("forcesync.live") === "off" ? "Resume live updates" : "Pause live updates"; }
  b.addEventListener("click", function () {
    localStorage.setItem("forcesync.live", localStorage.getItem("forcesync.live") === "off" ? "on" : "off");
    label();
  });
  label();
  el.appendChild(b);
})();

// The mapping editor checks, previews and plans as the form changes: it
// posts the form (action=check, which saves nothing) and puts the answer's
// check and results in place. Without script, "Check and preview" does
// the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form || !window.fetch || !window.DOMParser || !window.FormData) return;
  var timer = null;
  var seq = 0;
  function swap(doc, id) {
    var mine = document.getElementById(id);
    var theirs = doc.getElementById(id);
    if (mine && theirs) mine.innerHTML = theirs.innerHTML;
  }
  function check() {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "check");
    var n = ++seq;
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (n !== seq) return; // a newer check is on its way
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(doc, "live-check");
        swap(doc, "live-results");
        form.setAttribute("data-checked", String(n));
      })
      .catch(function () { /* the button still works */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }
  // change, not input: each check reads the org (describe, plan), so it
  // follows a finished edit rather than every keystroke.
  form.addEventListener("change", later);
  form.setAttribute("data-live", "on"); // the checks follow changes from now on
})();
