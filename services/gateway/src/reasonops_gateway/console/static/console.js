// ReasonOps console: the theme switch, live updates over Server-Sent Events, keyboard
// shortcuts, SLA countdowns and forms that post once. No framework: the server renders.
(function () {
  "use strict";
  const root = document.documentElement;
  const saved = localStorage.getItem("reasonops-theme");
  if (saved) root.dataset.theme = saved;

  document.addEventListener("DOMContentLoaded", function () {
    const theme = document.getElementById("theme");
    if (theme) theme.addEventListener("click", function () {
      const dark = root.dataset.theme === "dark" ||
        (root.dataset.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
      root.dataset.theme = dark ? "light" : "dark";
      localStorage.setItem("reasonops-theme", root.dataset.theme);
    });
    postOnce(document);
    countdowns();
    setInterval(countdowns, 1000);
    live();
    shortcuts();
  });

  // A form's button is disabled once it is submitted (the server also ignores a repeat).
  // A disabled button sends no value, so the one pressed is carried in a hidden field.
  function postOnce(scope) {
    scope.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var pressed = event.submitter;
        if (pressed && pressed.name) {
          var carried = document.createElement("input");
          carried.type = "hidden";
          carried.name = pressed.name;
          carried.value = pressed.value;
          form.appendChild(carried);
        }
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      });
    });
  }

  function countdowns() {
    document.querySelectorAll("time.countdown").forEach(function (t) {
      let left = Math.round((Date.parse(t.getAttribute("datetime")) - Date.now()) / 1000);
      const late = left < 0;
      left = Math.abs(left);
      const h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      t.textContent = (late ? "late by " : "") + (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
      t.classList.toggle("bad", late);
    });
  }

  // Parts of the page marked data-live re-render from the server when an event arrives
  // (at most once a second); a part someone is typing in waits, one showing an error
  // keeps it.
  function live() {
    const parts = document.querySelectorAll("[data-live]");
    if (!parts.length || !window.EventSource) return;
    const banner = document.getElementById("offline");
    let due = false, busy = false;
    const source = new EventSource("/live");
    source.onopen = function () { if (banner) banner.hidden = true; };
    source.onerror = function () { if (banner) banner.hidden = false; };
    source.onmessage = function () { due = true; };  // data: the event's type
    setInterval(async function () {
      if (!due || busy) return;
      due = false; busy = true;
      try {
        for (const part of parts) {
          if (part.contains(document.activeElement) && document.activeElement.matches("input, select, textarea")) { due = true; continue; }
          if (part.querySelector(".error[role=alert]")) continue;  // an error stays until the person moves on
          // The session cookie goes along: same origin.
          const response = await fetch(part.dataset.live, { headers: { "Accept": "text/html" } });
          if (response.status === 401 || response.redirected && response.url.includes("/login")) { location.reload(); return; }
          if (!response.ok) { due = true; continue; }
          part.innerHTML = await response.text();
          postOnce(part);
          countdowns();
        }
      } catch (e) { due = true; if (banner) banner.hidden = false; }
      finally { busy = false; }
    }, 1000);
  }

  // One key per action on the incident page (shown on its button); "/" searches.
  function shortcuts() {
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.target.matches("input, select, textarea")) return;
      if (e.key === "/") {
        const search = document.querySelector("input[type=search]");
        if (search) { e.preventDefault(); search.focus(); }
        return;
      }
      const form = document.querySelector('form.action[data-key="' + e.key + '"]');
      if (!form) return;
      e.preventDefault();
      const field = form.querySelector("input:not([type=hidden])");
      if (field) field.focus(); else form.requestSubmit();
    });
  }
})();
