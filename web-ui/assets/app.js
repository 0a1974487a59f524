// kubesim live page: one Server-Sent Events stream per tab carries every panel; forms are
// sent with fetch so the page never reloads. Without JavaScript the forms still work.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  function connect() {
    const es = new EventSource(document.body.dataset.stream || "/stream");
    es.addEventListener("panels", (e) => {
      for (const { id, html, tiles } of JSON.parse(e.data)) {
        const el = $(id);
        if (!el) continue;
        if (tiles) { patchTiles(el, tiles); continue; }
        el.tiles = null;
        if (id.endsWith("cluster") && el.querySelector(".nodes")) patchCluster(el, html);
        else el.innerHTML = html;
      }
      syncScrubber();
      drawCanvases();
      document.body.dataset.updated = String(Date.now());
    });
    es.onerror = () => { es.close(); setTimeout(connect, 1000); };
  }
  connect();

  // The cluster panel changes a few tiles at a time: touch only those (keyed by pod name),
  // so a thousand tiles do not all re-layout on every update.
  function patchCluster(el, html) {
    const next = document.createElement("template");
    next.innerHTML = html;
    const oldNodes = el.querySelectorAll(":scope > .nodes > section");
    const newNodes = next.content.querySelectorAll(":scope > .nodes > section");
    const sameShape = oldNodes.length === newNodes.length &&
      [...oldNodes].every((n, i) => n.getAttribute("aria-label") === newNodes[i].getAttribute("aria-label"));
    if (!next.content.querySelector(".nodes") || !sameShape) { el.innerHTML = html; return; }
    newNodes.forEach((fresh, i) => {
      const cur = oldNodes[i];
      if (cur.className !== fresh.className) cur.className = fresh.className;
      const ch = cur.querySelector("header"), fh = fresh.querySelector("header");
      if (ch.innerHTML !== fh.innerHTML) ch.innerHTML = fh.innerHTML;
      const list = cur.querySelector("ul.pods");
      const byName = new Map([...list.children].map((li) => [li.firstElementChild.dataset.pod, li]));
      let prev = null;
      for (const li of [...fresh.querySelector("ul.pods").children]) {
        const name = li.firstElementChild.dataset.pod;
        let have = byName.get(name);
        if (have) {
          byName.delete(name);
          const a = have.firstElementChild, b = li.firstElementChild;
          if (a.className !== b.className || a.textContent !== b.textContent) {
            a.className = b.className;
            a.innerHTML = b.innerHTML;
          }
        } else {
          have = li;
        }
        const want = prev ? prev.nextSibling : list.firstChild;
        if (want !== have) list.insertBefore(have, want);
        prev = have;
      }
      for (const gone of byName.values()) gone.remove();
    });
    const oc = el.querySelector(":scope > .count"), nc = next.content.querySelector(":scope > .count");
    if (oc && nc && oc.textContent !== nc.textContent) oc.textContent = nc.textContent;
  }

  // Once the tab has a cluster panel's HTML, the stream sends only the tiles that changed, as
  // data (view.rs, Tiles::diff): patch those buttons in place, built as pod_tile.html builds
  // them, and keep each list in the server's order (revision, then name).
  const STATES = { r: ["ready", "●"], n: ["notready", "◐"], c: ["creating", "◌"], p: ["pending", "○"], t: ["terminating", "↓"], x: ["crash", "✕"], u: ["pull", "⚠"], o: ["oom", "✕"], d: ["done", "✓"] };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const before = (rev, name, b) => rev < +b.dataset.rev || (rev === +b.dataset.rev && name < b.dataset.pod);
  function patchTiles(el, t) {
    const boxes = el.querySelectorAll(":scope > .nodes > section");
    if (!el.tiles) el.tiles = new Map([...el.querySelectorAll("button.pod[data-pod]")].map((b) => [b.dataset.ns + "/" + b.dataset.pod, b.parentNode]));
    for (const [i, cls, status, cpu] of t.nodes) {
      const box = boxes[i];
      if (!box) continue;
      if (box.className !== cls) box.className = cls;
      box.querySelector(".node-status").textContent = status;
      const small = box.querySelector("header small");
      if (small) small.textContent = cpu;
    }
    for (const [ns, name] of t.del) {
      const li = el.tiles.get(ns + "/" + name);
      if (li) li.remove();
      el.tiles.delete(ns + "/" + name);
    }
    for (const [ns, name, node, letter, status, rev, restarts] of t.set) {
      const key = ns + "/" + name;
      const list = boxes[node] && boxes[node].querySelector("ul.pods");
      if (!list) continue;
      let li = el.tiles.get(key), b;
      if (!li) {
        li = document.createElement("li");
        b = li.appendChild(document.createElement("button"));
        b.className = "pod";
        b.dataset.ns = ns;
        b.dataset.pod = name;
        el.tiles.set(key, li);
      } else b = li.firstElementChild;
      const [cls, icon] = STATES[letter] || STATES.p;
      b.className = "pod " + cls + " rev-" + (rev % 8);
      b.dataset.rev = rev;
      b.innerHTML = icon + ' <b class="rev">r' + rev + '</b> <span class="short">' + esc(name.split("-").pop()) + "</span> " + esc(status) +
        (restarts !== "0" ? ' <b class="restarts">↻' + esc(restarts) + "</b>" : "");
      // Where it belongs: after every tile that sorts before it.
      const prev = li.parentNode === list ? li.previousElementSibling : null;
      const next = li.parentNode === list ? li.nextElementSibling : null;
      const placed = li.parentNode === list &&
        (!prev || before(+prev.firstElementChild.dataset.rev, prev.firstElementChild.dataset.pod, b)) &&
        (!next || before(rev, name, next.firstElementChild));
      if (placed) continue;
      li.remove();
      let at = list.firstElementChild;
      while (at && !before(rev, name, at.firstElementChild)) at = at.nextElementSibling;
      list.insertBefore(li, at);
    }
    const count = el.querySelector(":scope > .count");
    if (count && count.textContent !== t.count) count.textContent = t.count;
  }

  // Large clusters: one square per pod, one row of squares per node.
  const COLORS = { r: "#2e7d4f", n: "#b7791f", c: "#3b6fb6", p: "#7a8594", t: "#9ca3af", x: "#c0392b", u: "#a0522d", o: "#8e2c6b", d: "#4b5563" };
  function drawCanvases() {
    for (const cv of document.querySelectorAll("canvas[data-pods]")) {
      const nodes = cv.dataset.pods.split("|").map((l) => { const [name, ready, pods] = l.split(":"); return { name, ready, pods: pods || "" }; });
      const W = cv.width, size = 4, gap = 1, per = Math.floor((W - 4) / (size + gap));
      let rows = 0;
      for (const n of nodes) rows += Math.max(1, Math.ceil(n.pods.length / 2 / per));
      const H = Math.max(40, rows * (size + gap) + nodes.length * 3 + 4);
      if (cv.height !== H) cv.height = H;
      const g = cv.getContext("2d");
      g.clearRect(0, 0, W, H);
      let y = 2;
      for (const n of nodes) {
        const count = n.pods.length / 2;
        const lines = Math.max(1, Math.ceil(count / per));
        if (n.ready === "N") { g.strokeStyle = "#c0392b"; g.strokeRect(0.5, y - 1.5, W - 1, lines * (size + gap) + 2); }
        for (let i = 0; i < count; i++) {
          g.fillStyle = COLORS[n.pods[2 * i]] || "#000";
          g.fillRect(2 + (i % per) * (size + gap), y + Math.floor(i / per) * (size + gap), size, size);
        }
        y += lines * (size + gap) + 3;
      }
    }
  }
  drawCanvases();

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

  async function send(form, extra, submitter) {
    const body = new URLSearchParams(new FormData(form));
    // A button's formAction property is the page's URL when it has no formaction attribute.
    const action = (submitter && submitter.getAttribute("formaction")) || form.action;
    const res = await fetch(action, { method: "POST", body, headers: { Accept: "application/json", ...(extra || {}) } });
    const type = res.headers.get("content-type") || "";
    return type.includes("json") ? res.json() : { stderr: await res.text(), code: res.ok ? 0 : 1 };
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (form.classList.contains("import") || form.method === "get") return;
    e.preventDefault();
    const out = await send(form, null, e.submitter);
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
    } else if (form.id === "traffic-form") {
      const what = ((e.submitter && e.submitter.textContent) || "traffic").trim();
      $("console-out").textContent = "# " + what + "\n" + (out.stdout || "") + (out.stderr || "");
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
