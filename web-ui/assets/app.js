// kubesim live page: one Server-Sent Events stream per tab carries every panel; forms are
// sent with fetch so the page never reloads. Without JavaScript the forms still work.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  function connect() {
    const es = new EventSource(document.body.dataset.stream || "/stream");
    es.addEventListener("panels", (e) => {
      for (const { id, html } of JSON.parse(e.data)) {
        const el = $(id);
        if (el) el.innerHTML = html;
      }
      syncScrubber();
      document.body.dataset.updated = String(Date.now());
    });
    es.onerror = () => { es.close(); setTimeout(connect, 1000); };
  }
  connect();

  // The scrubber sits outside the live clock so it is never replaced while in use; the clock
  // carries its range.
  function syncScrubber() {
    const range = document.querySelector("#scrubber input[type=range]");
    const info = document.querySelector("#clock .time");
    if (!range || !info || document.activeElement === range) return;
    range.min = info.dataset.start;
    range.max = info.dataset.horizon;
    range.value = info.dataset.now;
  }

  async function send(form, extra) {
    const body = new URLSearchParams(new FormData(form));
    const res = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json", ...(extra || {}) } });
    const type = res.headers.get("content-type") || "";
    return type.includes("json") ? res.json() : { stderr: await res.text(), code: res.ok ? 0 : 1 };
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (form.classList.contains("import") || form.method === "get") return;
    e.preventDefault();
    const out = await send(form);
    if (form.id === "console-form") {
      const cmd = form.querySelector("input").value;
      $("console-out").textContent = "$ kubectl " + cmd + "\n" + (out.stdout || "") + (out.stderr || "");
    } else if (form.id === "apply-form") {
      let text = (out.stdout || "") + (out.stderr || "");
      if (out.line) text += "(see line " + out.line + ")\n";
      $("apply-out").textContent = text;
      $("apply-out").classList.toggle("error-line", out.code !== 0);
      if (out.line) highlightLine($("yaml"), out.line);
    } else if (form.action.includes("/compare/")) {
      // the stream shows the result
    } else if (form.closest(".faults")) {
      $("console-out").textContent = "# " + form.action.split("/").pop() + "\n" + (out.stdout || "") + (out.stderr || "");
    }
  });

  function highlightLine(ta, line) {
    const lines = ta.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1] || "").length);
  }

  // The scrubber moves time as it is released.
  document.addEventListener("change", async (e) => {
    if (e.target.type === "range") {
      await send(e.target.form);
      e.target.blur();
    }
    if (e.target.type === "file" && e.target.files.length) {
      const text = await e.target.files[0].text();
      const res = await fetch("/import", { method: "POST", body: text, headers: { Accept: "application/json" } });
      if (!res.ok) alert(await res.text());
    }
  });

  // Pod details.
  document.addEventListener("click", async (e) => {
    const pod = e.target.closest("[data-pod]");
    const drawer = $("drawer");
    if (e.target.closest("[data-close]")) { drawer.hidden = true; return; }
    if (!pod) return;
    const res = await fetch("/pod/" + encodeURIComponent(pod.dataset.ns) + "/" + encodeURIComponent(pod.dataset.pod));
    drawer.innerHTML = await res.text();
    drawer.hidden = false;
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("drawer").hidden = true; });
})();
