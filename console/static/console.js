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
