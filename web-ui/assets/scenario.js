// kubesim scenario pages. Loaded before app.js, which swaps the live panels (the stream is
// named by <body data-stream>) and sends the console and apply forms. This file handles the
// scenario's own forms (data-own: speed, hint, next, reset, restart), copy buttons, clicking
// a command into the console, pod details from this scenario's cluster, and the list page's
// reload when the instructor's folder changes.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const id = document.body.dataset.scenario;
  // This server's form token (guard.rs): sent with every POST, as the forms' hidden field is.
  const FORM = (document.querySelector('meta[name="kubesim-form"]') || {}).content || "";

  // Own forms: sent with fetch; the stream shows the result. Captured before app.js sees them.
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!("own" in form.dataset)) return;
    e.preventDefault();
    e.stopPropagation();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      const res = await fetch(form.action, { method: "POST", headers: { Accept: "application/json", "X-Kubesim-Form": FORM } });
      if (!res.ok) alert(await res.text());
      else if ("reload" in form.dataset) location.reload();
    } finally {
      if (button) button.disabled = false;
    }
  }, true);

  // Copy buttons on code blocks; a click on a kubectl line puts it in the console.
  function decorate(root) {
    for (const pre of root.querySelectorAll(".code pre")) {
      if (pre.dataset.done) continue;
      pre.dataset.done = "1";
      const code = pre.querySelector("code") || pre;
      const lines = code.textContent.replace(/\n$/, "").split("\n");
      if (!lines.some((l) => /^\s*kubectl\s/.test(l))) continue;
      code.textContent = "";
      lines.forEach((l, i) => {
        if (/^\s*kubectl\s/.test(l)) {
          const s = document.createElement("span");
          s.className = "cmdline";
          s.title = "click to put it in the console";
          s.textContent = l;
          code.appendChild(s);
        } else {
          code.appendChild(document.createTextNode(l));
        }
        if (i < lines.length - 1) code.appendChild(document.createTextNode("\n"));
      });
    }
  }
  decorate(document);

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      const ta = document.createElement("textarea");
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      const ok = document.execCommand("copy");
      ta.remove();
      return ok;
    }
  }

  document.addEventListener("click", async (e) => {
    const btn = e.target.closest(".code .copy");
    if (btn) {
      const pre = btn.parentElement.querySelector("pre");
      const ok = await copy(pre.textContent.replace(/\n$/, ""));
      btn.textContent = ok ? "copied" : "select and copy";
      setTimeout(() => { btn.textContent = "copy"; }, 1500);
      return;
    }
    const line = e.target.closest(".cmdline");
    if (line && $("cmd")) {
      // Comments after the command are for reading.
      $("cmd").value = line.textContent.replace(/^\s*kubectl\s+/, "").replace(/\s+#.*$/, "");
      $("cmd").focus();
      return;
    }
    // Pod details from this scenario's cluster (app.js would ask the main sandbox).
    const pod = e.target.closest("[data-pod]");
    if (pod && id) {
      e.stopPropagation();
      const res = await fetch("/scenarios/" + encodeURIComponent(id) + "/pod/" + encodeURIComponent(pod.dataset.ns) + "/" + encodeURIComponent(pod.dataset.pod));
      $("drawer").innerHTML = await res.text();
      $("drawer").hidden = false;
    }
  }, true);

  // Another tab moved on (or reset): show this step's text.
  if (id) {
    new MutationObserver(() => {
      const now = document.querySelector("#checks [data-step-now]");
      if (now && now.dataset.stepNow !== document.body.dataset.step) location.reload();
    }).observe($("checks"), { childList: true });
  }

  // The list page follows the instructor's folder.
  const version = document.body.dataset.catalogVersion;
  if (version !== undefined) {
    setInterval(async () => {
      try {
        const res = await fetch("/scenarios/version");
        const v = (await res.json()).version;
        if (String(v) !== version) location.reload();
      } catch (_) { /* the server is restarting */ }
    }, 1000);
  }
})();
