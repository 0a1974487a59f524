// kubesim live page: one Server-Sent Events stream per tab carries every panel; forms are
// sent with fetch so the page never reloads. Without JavaScript the forms still work.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  // This server's form token (guard.rs): sent with every POST, as the forms' hidden field is.
  const FORM = (document.querySelector('meta[name="kubesim-form"]') || {}).content || "";
  function connect() {
    const es = new EventSource(document.body.dataset.stream || "/stream");
    es.addEventListener("panels", (e) => {
      for (const { id, html, tiles, parts, grow } of JSON.parse(e.data)) {
        const el = $(id);
        if (!el) continue;
        if (tiles) { patchTiles(el, tiles); continue; }
        if (parts) { patchParts(el, parts); continue; }
        if (grow) { patchGrow(el, grow); continue; }
        el.tiles = null;
        if (id.endsWith("cluster") && el.querySelector(".nodes")) patchCluster(el, html);
        else morph(el, html);
      }
      syncScrubber();
      syncNamespace();
      applyTimelineView();
      showAges();
      drawCanvases();
      document.body.dataset.updated = String(Date.now());
    });
    es.onerror = () => { es.close(); setTimeout(connect, 1000); };
  }
  connect();

  // Every other panel is morphed into its new HTML: only the attributes and text that changed
  // are touched, so an update re-lays out what changed and not the whole panel, a selection
  // survives, and a <details> the student closed stays closed.
  function morph(el, html) {
    const next = document.createElement("template");
    next.innerHTML = html;
    morphChildren(el, next.content);
  }
  const keyOf = (n) => (n.nodeType === 1 ? n.getAttribute("data-key") : null);
  function morphChildren(parent, next) {
    const keyed = new Map();
    for (let c = parent.firstChild; c; c = c.nextSibling) {
      const k = keyOf(c);
      if (k !== null) keyed.set(k, c);
    }
    let cur = parent.firstChild;
    for (let b = next.firstChild; b;) {
      const following = b.nextSibling;
      const k = keyOf(b);
      let match = null;
      if (k !== null) {
        match = keyed.get(k) || null;
        keyed.delete(k);
      } else if (cur && keyOf(cur) === null && cur.nodeType === b.nodeType && cur.nodeName === b.nodeName) match = cur;
      if (match) {
        morphNode(match, b);
        if (match === cur) cur = cur.nextSibling;
        else parent.insertBefore(match, cur);
      } else parent.insertBefore(b, cur);
      b = following;
    }
    while (cur) {
      const n = cur.nextSibling;
      cur.remove();
      cur = n;
    }
  }
  // The Deployments and events panels come as keyed parts (view.rs, Parts::diff): the keys in
  // order, and the HTML of those that are new or changed. The others stay as they are.
  function patchParts(el, { within, order, set }) {
    const box = within ? el.querySelector(within) : el;
    if (!box) return;
    const have = new Map([...box.children].map((c) => [c.getAttribute("data-key"), c]));
    let at = box.firstElementChild;
    for (const key of order) {
      let node = have.get(key);
      have.delete(key);
      if (key in set) {
        const next = document.createElement("template");
        next.innerHTML = set[key];
        const fresh = next.content.firstElementChild;
        if (node) morphNode(node, fresh);
        else node = fresh;
      }
      if (!node) continue;
      if (node === at) at = at.nextElementSibling;
      else box.insertBefore(node, at);
    }
    for (const gone of have.values()) gone.remove();
  }

  // Event ages ("LAST SEEN") are computed here from the virtual clock, as kubectl prints them
  // (duration.HumanDuration), so a row is not sent again every second only because it aged.
  function human(ms) {
    const s = Math.trunc(ms / 1000), m = Math.trunc(s / 60), h = Math.trunc(s / 3600), d = Math.trunc(h / 24), y = Math.trunc(d / 365);
    if (s < -1) return "<invalid>";
    if (s < 0) return "0s";
    if (s < 120) return s + "s";
    if (m < 10) return s % 60 ? m + "m" + (s % 60) + "s" : m + "m";
    if (m < 180) return m + "m";
    if (h < 8) return m % 60 ? h + "h" + (m % 60) + "m" : h + "h";
    if (h < 48) return h + "h";
    if (h < 192) return h % 24 ? d + "d" + (h % 24) + "h" : d + "d";
    if (h < 24 * 365 * 2) return d + "d";
    if (h < 24 * 365 * 8) return d % 365 ? y + "y" + (d % 365) + "d" : y + "y";
    return y + "y";
  }
  // For the browser tests, which check it against kubesim's port of HumanDuration; and how
  // many times a timeline line grew by appended points.
  window.kubesim = { age: human, appended: 0 };
  const ages = document.getElementsByClassName("age");
  const agos = document.getElementsByClassName("ago");
  function showAges() {
    const clock = document.querySelector("[data-now]");
    if (!clock) return;
    const now = +clock.dataset.now;
    for (const td of ages) {
      const age = human(now - +td.dataset.since);
      if (td.textContent !== age) td.textContent = age;
    }
    // A controller decision: how long ago, by the virtual clock (its time on hover).
    for (const el of agos) {
      const ago = human(now - +el.dataset.since) + " ago";
      if (el.textContent !== ago) el.textContent = ago;
    }
  }
  showAges();

  // The timeline comes in three kinds (timeline.rs, Grown::diff): its frame when a scale, a
  // line or the strategy changed (morphed, the lines' points left alone); the live values
  // that move with the clock (the window's viewBox, time labels, where marker labels sit, a
  // traffic caption), each on the element marked with its data-live key; and the points each
  // line grew by, appended.
  let keepingLines = false;
  function patchGrow(el, { frame, live, append }) {
    if (frame !== undefined) {
      // A frame may move a plot (fewer grid lines before it): the morph then builds the line
      // afresh, without points. Keep every line's points by key and put them back.
      const kept = new Map([...el.querySelectorAll("[data-grow]")].map((l) => [l.getAttribute("data-key"), l.getAttribute("points")]));
      keepingLines = true;
      try { morph(el, frame); } finally { keepingLines = false; }
      for (const line of el.querySelectorAll("[data-grow]")) {
        const points = kept.get(line.getAttribute("data-key"));
        if (points != null && line.getAttribute("points") !== points) line.setAttribute("points", points);
      }
    }
    for (const [key, [attr, value]] of Object.entries(live || {})) {
      const node = el.querySelector(`[data-live="${CSS.escape(key)}"]`);
      if (!node) continue;
      if (attr) node.setAttribute(attr, value);
      else if (node.textContent !== value) node.textContent = value;
    }
    for (const [key, points] of Object.entries(append)) {
      const line = el.querySelector(`[data-grow][data-key="${CSS.escape(key)}"]`);
      if (line) line.setAttribute("points", (line.getAttribute("points") || "") + points);
      window.kubesim.appended++;
    }
  }

  const userOwned = (el, name) => (name === "open" && el.tagName === "DETAILS") || (keepingLines && name === "points" && el.hasAttribute("data-grow"));
  function morphNode(a, b) {
    if (a.nodeType !== 1) {
      if (a.nodeValue !== b.nodeValue) a.nodeValue = b.nodeValue;
      return;
    }
    if (a.isEqualNode(b)) return;
    for (const { name, value } of b.attributes) if (a.getAttribute(name) !== value && !userOwned(a, name)) a.setAttribute(name, value);
    for (const name of a.getAttributeNames()) if (!b.hasAttribute(name) && !userOwned(a, name)) a.removeAttribute(name);
    morphChildren(a, b);
  }

  // The cluster panel changes a few tiles at a time: touch only those (keyed by pod name),
  // so a thousand tiles do not all re-layout on every update. Its shape is its node boxes and,
  // in each, one list of tiles per owner (data-group); a new shape is drawn afresh.
  const listsOf = (root) => [...root.querySelectorAll(":scope > .nodes > section ul.pods")];
  const shapeOf = (root) => [...root.querySelectorAll(":scope > .nodes > section")].map((s) =>
    s.getAttribute("aria-label") + ":" + [...s.querySelectorAll("ul.pods")].map((l) => l.dataset.group).join("|")).join("\n");
  function patchCluster(el, html) {
    const next = document.createElement("template");
    next.innerHTML = html;
    if (!next.content.querySelector(".nodes") || shapeOf(el) !== shapeOf(next.content)) { el.innerHTML = html; return; }
    const oldNodes = el.querySelectorAll(":scope > .nodes > section");
    next.content.querySelectorAll(":scope > .nodes > section").forEach((fresh, i) => {
      const cur = oldNodes[i];
      if (cur.className !== fresh.className) cur.className = fresh.className;
      const ch = cur.querySelector("header"), fh = fresh.querySelector("header");
      if (ch.innerHTML !== fh.innerHTML) ch.innerHTML = fh.innerHTML;
    });
    const freshLists = listsOf(next.content);
    listsOf(el).forEach((list, i) => {
      const byName = new Map([...list.children].map((li) => [li.firstElementChild.dataset.pod, li]));
      let prev = null;
      for (const li of [...freshLists[i].children]) {
        const name = li.firstElementChild.dataset.pod;
        let have = byName.get(name);
        if (have) {
          byName.delete(name);
          const a = have.firstElementChild, b = li.firstElementChild;
          if (a.className !== b.className) a.className = b.className;
          if (a.textContent !== b.textContent) a.textContent = b.textContent;
          if (a.dataset.rev !== b.dataset.rev) a.dataset.rev = b.dataset.rev;
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
  const before = (rev, name, b) => rev < +b.dataset.rev || (rev === +b.dataset.rev && name < b.dataset.pod);
  function patchTiles(el, t) {
    const boxes = el.querySelectorAll(":scope > .nodes > section");
    const lists = listsOf(el);
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
    const resort = new Set();
    for (const [ns, name, node, letter, status, rev, restarts] of t.set) {
      const key = ns + "/" + name;
      const list = lists[node];
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
      // One text node per tile, as pod_tile.html writes it: a tile that changes re-lays out
      // one line of text.
      const [cls, icon] = STATES[letter] || STATES.p;
      const className = "pod " + cls + " rev-" + (rev % 8);
      const text = icon + " r" + rev + " " + name.split("-").pop() + " " + status + (restarts !== "0" ? " ↻" + restarts : "");
      if (b.className !== className) b.className = className;
      if (b.textContent !== text) b.textContent = text;
      if (b.dataset.rev !== String(rev)) {
        // A rollback renumbers a ReplicaSet: its tiles move; the list is put in order below.
        if (b.dataset.rev) resort.add(list);
        b.dataset.rev = rev;
      }
      if (li.parentNode === list) continue;
      // A new tile (or one that moved to another node) goes after every tile that sorts
      // before it.
      li.remove();
      const tiles = list.children;
      let lo = 0, hi = tiles.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(rev, name, tiles[mid].firstElementChild)) hi = mid;
        else lo = mid + 1;
      }
      list.insertBefore(li, tiles[lo] || null);
    }
    for (const list of resort) {
      const lis = [...list.children];
      const key = (li) => [+li.firstElementChild.dataset.rev, li.firstElementChild.dataset.pod];
      lis.sort((a, b) => { const [ra, na] = key(a), [rb, nb] = key(b); return ra - rb || (na < nb ? -1 : na > nb ? 1 : 0); });
      if (lis.some((li, i) => li !== list.children[i])) list.append(...lis);
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

  // The timeline's zoom and pan. The server draws a window that follows the action (or the
  // whole run, `?timeline=whole`); these buttons narrow, widen or move it in this tab only:
  // every plot of the panel gets the same time range, the time labels say it, and each marker
  // label moves to its time (data-at), before its line when it would run past the right edge.
  // Re-applied after every update, since the stream moves the server's window.
  let tlView = null; // { span, end } in virtual seconds; end null: the right edge is now
  function tlClock(secs) {
    const s = Math.max(0, Math.trunc(secs)), two = (n) => String(n).padStart(2, "0");
    return s >= 3600 ? Math.trunc(s / 3600) + "h" + two(Math.trunc(s / 60) % 60) + "m" + two(s % 60) + "s" : Math.trunc(s / 60) + "m" + two(s % 60) + "s";
  }
  function serverView(plot) {
    const vb = plot.getAttribute("viewBox");
    if (vb !== plot.dataset.mine) plot.dataset.server = vb;
    return plot.dataset.server.split(" ").map(Number);
  }
  function timelineRange() {
    const plot = document.querySelector("#timeline svg.plot");
    if (!plot) return null;
    const [x, , w] = serverView(plot);
    return { start: x, now: x + w };
  }
  function applyTimelineView() {
    const root = $("timeline");
    if (!tlView || !root) return;
    const range = timelineRange();
    if (!range) return;
    const b = tlView.end == null ? range.now : Math.min(tlView.end, range.now);
    const a = Math.max(0, b - tlView.span);
    for (const plot of root.querySelectorAll("svg.plot")) {
      const [, y, , h] = serverView(plot);
      const vb = a + " " + y + " " + Math.max(b - a, 1e-3) + " " + h;
      plot.setAttribute("viewBox", vb);
      plot.dataset.mine = vb;
    }
    for (const t of root.querySelectorAll('[data-live$="/from"]')) t.textContent = tlClock(a);
    for (const t of root.querySelectorAll('[data-live$="/now"]')) t.textContent = tlClock(b);
    for (const fig of root.querySelectorAll("figure.timeline")) {
      const plot = fig.querySelector("svg.plot");
      if (!plot) continue;
      const left = +plot.getAttribute("x"), width = +plot.getAttribute("width");
      for (const label of fig.querySelectorAll("text.marker-label[data-at]")) {
        const at = +label.dataset.at, line = left + (at - a) / Math.max(b - a, 1e-3) * width;
        const y = (/translate\([^ ]+ ([^)]+)\)/.exec(label.getAttribute("transform") || "") || [])[1] || "22";
        const text = [...label.childNodes].filter((n) => n.nodeType === 3).map((n) => n.nodeValue).join("");
        const before = line + 3 + 6.2 * text.length > left + width;
        label.classList.toggle("before", before);
        label.setAttribute("transform", "translate(" + (before ? line - 3 : line + 3).toFixed(1) + " " + y + ")" + (at < a || at > b ? " scale(0)" : ""));
      }
    }
  }
  for (const z of document.querySelectorAll(".timeline-window .zoom")) z.hidden = false;
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-zoom]");
    if (!button) return;
    const range = timelineRange();
    if (!range) return;
    const view = tlView || { span: range.now - range.start, end: null };
    const end = view.end == null ? range.now : view.end;
    switch (button.dataset.zoom) {
      case "in": view.span = Math.max(10, view.span / 2); break;
      case "out": view.span = view.span * 2; break;
      case "back": view.end = Math.max(view.span, end - view.span / 2); break;
      case "ahead": view.end = end + view.span / 2 >= range.now ? null : end + view.span / 2; break;
    }
    // A following window holds only the time since just before the latest action: zooming
    // out or moving back past its start goes on in the whole run's view, at the same zoom.
    const whole = document.querySelector('.timeline-window a[href*="timeline=whole"]');
    const from = (view.end == null ? range.now : view.end) - view.span;
    if (from < range.start - 1e-6 && range.start > 0 && whole && !whole.hasAttribute("aria-current")) {
      location.href = whole.getAttribute("href") + "#span=" + Math.round(view.span) + (view.end == null ? "" : "&end=" + Math.round(view.end));
      return;
    }
    tlView = view;
    applyTimelineView();
  });
  // The zoom carried over from a following window (#span=S[&end=E]).
  {
    const m = /span=(\d+)(?:&end=(\d+))?/.exec(location.hash);
    if (m) { tlView = { span: +m[1], end: m[2] ? +m[2] : null }; applyTimelineView(); }
  }

  // Presenter mode's keys (body.present): space plays or pauses, → goes to the next event,
  // b breaks the image, u undoes the rollout. Each submits the form of the button that does
  // the same, so it goes through the same recorded path.
  const PRESENTER_KEYS = {
    compare: { play: "/compare/speed?speed=1", pause: "/compare/speed?speed=0", next: "/compare/speed?speed=step", b: "/compare/image?kind=broken", u: "/compare/undo" },
    sandbox: { play: "/control/play?speed=1", pause: "/control/pause", next: "/control/step", b: "/fault/break-image", u: "/fault/undo" },
  };
  function presenterKey(e) {
    if (!document.body.classList.contains("present") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input, textarea, select, [contenteditable]")) return;
    const keys = document.getElementById("compare-clock") ? PRESENTER_KEYS.compare : PRESENTER_KEYS.sandbox;
    let action = null;
    if (e.key === " ") {
      const speed = document.querySelector(".clock .speed");
      action = speed && speed.classList.contains("paused") ? keys.play : keys.pause;
    } else if (e.key === "ArrowRight") action = keys.next;
    else if (e.key === "b" || e.key === "u") action = keys[e.key];
    if (!action) return;
    const form = document.querySelector('form[action="' + action + '"]');
    if (!form) return;
    e.preventDefault();
    form.requestSubmit();
  }
  document.addEventListener("keydown", presenterKey);

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

  // The namespace picker is the page's current namespace, which the console uses: keep the
  // picker's choice and the console's prompt in step with the server's (another tab, or
  // `kubectl config set-context` in the console, may have moved it).
  function syncNamespace() {
    const select = document.querySelector("#namespaces select");
    if (!select) return;
    const chosen = select.querySelector("option[selected]");
    if (chosen && document.activeElement !== select && select.value !== chosen.value) select.value = chosen.value;
    const ns = select.value || "default";
    if ($("console-ns") && $("console-ns").textContent !== ns) $("console-ns").textContent = ns;
  }
  syncNamespace();
  document.addEventListener("change", async (e) => {
    if (!e.target.closest("#namespaces select")) return;
    const out = await send(e.target.form);
    if (out.namespace && $("console-ns")) $("console-ns").textContent = out.namespace;
  });

  async function send(form, extra, submitter) {
    const body = new URLSearchParams(new FormData(form));
    // A button's formAction property is the page's URL when it has no formaction attribute.
    const action = (submitter && submitter.getAttribute("formaction")) || form.action;
    const res = await fetch(action, { method: "POST", body, headers: { Accept: "application/json", "X-Kubesim-Form": FORM, ...(extra || {}) } });
    const type = res.headers.get("content-type") || "";
    return type.includes("json") ? res.json() : { stderr: await res.text(), code: res.ok ? 0 : 1 };
  }

  // The console is a terminal's scrollback: every command of this run and its output (the
  // server keeps it too, for a reload), scrolled to the newest; ↑/↓ walk the commands typed.
  function toConsole(entry) {
    const pre = $("console-out");
    if (!pre) return;
    const text = pre.textContent;
    pre.textContent = text + (text && !text.endsWith("\n") ? "\n" : "") + entry;
    pre.scrollTop = pre.scrollHeight;
  }
  const history = [...(($("console-out") || {}).textContent || "").matchAll(/^\$ kubectl (.*)$/gm)].map((m) => m[1]);
  let back = history.length, draft = "";
  function remember(cmd) {
    if (cmd && history[history.length - 1] !== cmd) history.push(cmd);
    back = history.length;
    draft = "";
  }
  document.addEventListener("keydown", (e) => {
    if (e.target.id !== "cmd" || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    e.preventDefault();
    if (back === history.length) draft = e.target.value;
    back = Math.max(0, Math.min(history.length, back + (e.key === "ArrowUp" ? -1 : 1)));
    e.target.value = back === history.length ? draft : history[back];
    const end = e.target.value.length;
    e.target.setSelectionRange(end, end);
  });
  if ($("console-out")) $("console-out").scrollTop = $("console-out").scrollHeight;

  // A command from the console. A watch (get -w, rollout status) comes back as a stream of
  // text, shown as it arrives until it ends, Ctrl-C or the stop button. `watching` is the
  // running watch: its request's AbortController and the server's number for it. Ctrl-C asks
  // the server to stop it (/console/stop/N), and the next command waits for that, so what the
  // watch printed is in the server's scrollback before it (a reload shows them in order).
  // `edit` puts the object in the YAML editor.
  let watching = null, stopping = Promise.resolve();
  function interrupt() {
    if (!watching) return;
    const { ctrl, n } = watching;
    appendConsole("^C\n");
    watching = null;
    showStop(false);
    stopping = stopWatch(n, false);
    ctrl.abort();
  }
  function stopWatch(n, leaving) {
    return fetch("/console/stop/" + encodeURIComponent(n), { method: "POST", keepalive: leaving, headers: { "X-Kubesim-Form": FORM } }).catch(() => {});
  }
  window.addEventListener("pagehide", () => { if (watching) stopWatch(watching.n, true); });
  function appendConsole(text) {
    const pre = $("console-out");
    if (!pre) return;
    pre.textContent += text;
    pre.scrollTop = pre.scrollHeight;
  }
  function showStop(on) {
    const form = $("console-form");
    if (!form) return;
    let stop = $("console-stop");
    if (!stop && on) {
      stop = document.createElement("button");
      stop.type = "button";
      stop.id = "console-stop";
      stop.textContent = "stop (Ctrl-C)";
      stop.addEventListener("click", interrupt);
      form.querySelector(".row").appendChild(stop);
    }
    if (stop) stop.hidden = !on;
    form.classList.toggle("watching", on);
  }
  async function runCommand(form) {
    const input = form.querySelector("#cmd");
    const cmd = input.value.trim();
    interrupt();
    await stopping;
    hideChoices();
    const body = new URLSearchParams(new FormData(form));
    remember(cmd);
    input.value = "";
    const ctrl = new AbortController();
    let res;
    try {
      res = await fetch(form.action, { method: "POST", body, signal: ctrl.signal, headers: { Accept: "application/json", "X-Kubesim-Form": FORM } });
    } catch (_) { return; }
    if (res.headers.get("x-kubesim-watch")) {
      watching = { ctrl, n: res.headers.get("x-kubesim-watch") };
      showStop(true);
      toConsole("$ kubectl " + cmd + "\n");
      const reader = res.body.getReader(), text = new TextDecoder();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          appendConsole(text.decode(value, { stream: true }));
        }
      } catch (_) { /* stopped */ }
      if (watching && watching.ctrl === ctrl) { watching = null; showStop(false); }
      return;
    }
    const type = res.headers.get("content-type") || "";
    const out = type.includes("json") ? await res.json() : { stderr: await res.text(), code: res.ok ? 0 : 1 };
    toConsole("$ kubectl " + cmd + "\n" + (out.stdout || "") + (out.stderr || ""));
    if (out.namespace && $("console-ns")) $("console-ns").textContent = out.namespace;
    if (out.edit) openInEditor(out.edit);
  }
  function openInEditor(yaml) {
    const ta = $("yaml");
    if (!ta) return;
    ta.value = yaml;
    ta.dispatchEvent(new Event("input"));
    const box = ta.closest("details");
    if (box) box.open = true;
    if ($("apply-out")) $("apply-out").textContent = "";
    ta.scrollIntoView({ block: "nearest" });
    ta.focus();
    ta.setSelectionRange(0, 0);
    ta.scrollTop = 0;
  }
  document.addEventListener("keydown", (e) => {
    if (!watching || !e.ctrlKey || e.key.toLowerCase() !== "c") return;
    const t = e.target;
    const typing = t.id === "cmd" && t.selectionStart === t.selectionEnd;
    if (!typing && t !== document.body) return;
    e.preventDefault();
    interrupt();
  });

  // Tab completes the word before the cursor, as a shell's kubectl completion does: one
  // answer is put in; several put in what they share, or are listed under the prompt.
  function hideChoices() { if ($("console-choices")) $("console-choices").hidden = true; }
  function showChoices(words) {
    let box = $("console-choices");
    if (!box) {
      box = document.createElement("div");
      box.id = "console-choices";
      box.className = "choices";
      $("console-form").querySelector(".row").after(box);
    }
    box.textContent = words.join("  ");
    box.hidden = false;
  }
  document.addEventListener("keydown", async (e) => {
    if (e.target.id !== "cmd" || e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey) return;
    e.preventDefault();
    const input = e.target;
    const line = input.value.slice(0, input.selectionStart), rest = input.value.slice(input.selectionEnd);
    const url = input.form.getAttribute("action").replace(/kubectl$/, "complete") + "?line=" + encodeURIComponent(line);
    const res = await fetch(url, { headers: { Accept: "application/json" } });
    if (!res.ok) return;
    const words = (await res.json()).words || [];
    const partial = /\S*$/.exec(line)[0];
    let put = null;
    if (words.length === 1) put = words[0] + " ";
    else if (words.length > 1) {
      let common = words[0];
      for (const w of words) while (!w.startsWith(common)) common = common.slice(0, -1);
      if (common.length > partial.length) put = common;
      else showChoices(words);
    }
    if (put === null) return;
    hideChoices();
    const before = line.slice(0, line.length - partial.length) + put;
    input.value = before + rest;
    input.setSelectionRange(before.length, before.length);
  });
  document.addEventListener("input", (e) => { if (e.target.id === "cmd") hideChoices(); });

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (form.classList.contains("import") || form.method === "get") return;
    e.preventDefault();
    if (form.id === "console-form") { runCommand(form); return; }
    const out = await send(form, null, e.submitter);
    if (form.id === "apply-form") {
      let text = (out.stdout || "") + (out.stderr || "");
      if (out.line) text += "(see line " + out.line + ")\n";
      $("apply-out").textContent = text;
      $("apply-out").classList.toggle("error-line", out.code !== 0);
      markLine($("yaml"), out.line, out.stderr);
      if (out.line) highlightLine($("yaml"), out.line);
    } else if (form.action.includes("/compare/")) {
      // the stream shows the result
    } else if (form.id === "traffic-form") {
      const what = ((e.submitter && e.submitter.textContent) || "traffic").trim();
      toConsole("# " + what + "\n" + (out.stdout || "") + (out.stderr || ""));
    } else if (form.closest(".faults")) {
      toConsole("# " + form.action.split("/").pop() + "\n" + (out.stdout || "") + (out.stderr || ""));
    }
  });

  // The YAML editor's line numbers, kept in step with its text and scrolling; a refused
  // apply marks its line in red and says what is wrong after that line's text (or under it
  // when the line is long).
  // The editor's line height as styled (larger in presenter mode), its top padding fixed.
  const PAD = 6;
  const lineOf = (ta) => parseFloat(getComputedStyle(ta).lineHeight) || 18;
  function gutterOf(ta) {
    const box = ta.closest(".editor");
    return box && { gutter: box.querySelector(".gutter"), note: box.querySelector(".inline-error") };
  }
  function numberLines(ta) {
    const g = gutterOf(ta);
    if (!g) return;
    const n = ta.value.split("\n").length;
    if (g.gutter.childElementCount !== n) {
      const bad = g.gutter.querySelector(".bad");
      let html = "";
      for (let i = 1; i <= n; i++) html += "<span>" + i + "</span>";
      g.gutter.innerHTML = html;
      if (bad) markLine(ta, null);
    }
    g.gutter.style.height = ta.offsetHeight + "px";
    g.gutter.scrollTop = ta.scrollTop;
    placeNote(ta, g);
  }
  let charWidth = 0;
  function placeNote(ta, g) {
    if (g.note.hidden) return;
    const line = +g.note.dataset.line;
    if (!charWidth) {
      const c = document.createElement("canvas").getContext("2d");
      c.font = getComputedStyle(ta).font;
      charWidth = c.measureText("M").width;
    }
    // After the line's text when there is room, else just under it.
    const text = ta.value.split("\n")[line - 1] || "";
    const start = ta.offsetLeft + ta.clientLeft + 8;
    const after = start + text.length * charWidth + 12 - ta.scrollLeft;
    const room = ta.offsetLeft + ta.clientLeft + ta.clientWidth - 8 - after;
    const under = room < 180;
    const top = PAD + (line - (under ? 0 : 1)) * lineOf(ta) - ta.scrollTop;
    g.note.style.top = top + "px";
    g.note.style.left = (under ? start : after) + "px";
    g.note.style.visibility = top < 0 || top > ta.clientHeight ? "hidden" : "";
  }
  function markLine(ta, line, message) {
    const g = gutterOf(ta);
    if (!g) return;
    for (const b of g.gutter.querySelectorAll(".bad")) b.classList.remove("bad");
    g.note.hidden = !line;
    if (!line) return;
    const span = g.gutter.children[line - 1];
    if (span) span.classList.add("bad");
    // The specific part: what follows kubectl's and the API server's framing.
    const lines = String(message || "").split("\n").filter((l) => l.trim());
    const first = lines[0] || "";
    const frame = /.*(strict decoding error: |is invalid: |error converting YAML to JSON: |error: )/.exec(first);
    let said = frame ? first.slice(frame[0].length) : first;
    // `The Deployment "x" is invalid:` lists its causes below, the marked line's first.
    if (!said.trim() && lines[1]) said = lines[1].replace(/^\* /, "");
    g.note.textContent = "◀ " + said;
    g.note.title = lines.join("\n");
    g.note.dataset.line = line;
    placeNote(ta, g);
  }
  for (const ta of document.querySelectorAll(".editor textarea")) {
    numberLines(ta);
    ta.addEventListener("input", () => { markLine(ta, null); numberLines(ta); });
    ta.addEventListener("scroll", () => numberLines(ta));
    new ResizeObserver(() => numberLines(ta)).observe(ta);
  }

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
      const res = await fetch("/import", { method: "POST", body: text, headers: { Accept: "application/json", "X-Kubesim-Form": FORM } });
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
