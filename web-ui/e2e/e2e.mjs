// End-to-end test of `kubesim serve` in a real browser (Debian's chromium, headless):
// usage: node e2e.mjs http://127.0.0.1:PORT [screenshot-dir]
// Exits non-zero with a message at the first expectation a student would notice failing.
import { launch, expectations, toTop, layoutProblems } from "./harness.mjs";

const base = process.argv[2];
const shots = process.argv[3];
if (!base) {
  console.error("usage: node e2e.mjs BASE_URL [SCREENSHOT_DIR]");
  process.exit(2);
}

const browser = await launch();
const { fail, expectSoon } = expectations(browser, 20000);

try {
  // A 1280x720 laptop screen, as a student has.
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on("pageerror", (e) => console.error("page error: " + e.message));
  // The tiles are patched from per-pod data: they must equal a fresh server render, box by
  // box and button by button.
  async function clusterMatchesServer(when) {
    const mismatch = await page.evaluate(async () => {
      const shape = (root) => [...root.querySelectorAll(".nodes > section")].map((s) => ({
        box: s.getAttribute("aria-label") + " " + s.className + " " + s.querySelector("header").textContent,
        tiles: [...s.querySelectorAll("ul.pods > li > button")].map((b) => b.outerHTML),
      }));
      const fresh = new DOMParser().parseFromString(await (await fetch("/")).text(), "text/html");
      const want = JSON.stringify(shape(fresh.getElementById("cluster")));
      const have = JSON.stringify(shape(document.getElementById("cluster")));
      return want === have ? null : "live: " + have + "\nserver: " + want;
    });
    if (mismatch) await fail("the patched cluster differs from the server's render " + when + ":\n" + mismatch);
  }
  // The first screen (no scrolling) shows the cluster, the Deployment's status and the
  // console; the editor, traffic and faults are one short scroll down; nothing overlaps,
  // sticks out of its panel or is cut.
  async function layoutHolds(p, when) {
    await p.evaluate(toTop);
    const problems = await p.evaluate(layoutProblems);
    if (problems.length) await fail("the layout breaks " + when + ":\n" + problems.join("\n"));
    const where = await p.evaluate(() => {
      const top = (sel) => document.querySelector(sel).getBoundingClientRect().top;
      const bottom = (sel) => document.querySelector(sel).getBoundingClientRect().bottom;
      return { h: innerHeight, cluster: top("#cluster"), deployments: top("#deployments"), console: top("#console-form"), input: bottom("#cmd"), yaml: top("#yaml"), traffic: top("#traffic-form"), faults: top(".faults") };
    });
    const first = ["cluster", "deployments", "console", "input"].filter((k) => !(where[k] < where.h));
    if (first.length) await fail("not on the first screen " + when + ": " + first.join(", ") + " " + JSON.stringify(where));
    const near = ["yaml", "traffic", "faults"].filter((k) => !(where[k] < where.h * 1.5));
    if (near.length) await fail("more than a short scroll away " + when + ": " + near.join(", ") + " " + JSON.stringify(where));
  }
  // The timeline after a rollback (issue 16, part 4): the window holds the latest action with
  // the time before it, each ReplicaSet keeps one line whose label follows its revision, every
  // marker label says what changed and lies inside its chart without covering another.
  async function timelineFollowsTheRollback(p) {
    await expectSoon(p, "the timeline labels the re-used ReplicaSet 'revision 2 → 4'", () => document.querySelector("#timeline .legend").textContent.includes("revision 2 → 4 (desired)"));
    const seen = await p.evaluate(() => {
      const fig = document.querySelector("#timeline figure.timeline:not(.traffic)");
      const outer = fig.querySelector("svg").getBoundingClientRect();
      const plot = fig.querySelector("svg.plot").getBoundingClientRect();
      const labels = [...fig.querySelectorAll("text.marker-label")].filter((t) => !(t.getAttribute("transform") || "").includes("scale(0)"));
      // The label's own text (its <title> is the tooltip).
      const said = (t) => [...t.childNodes].filter((n) => n.nodeType === 3).map((n) => n.nodeValue).join("");
      const boxes = labels.map((t) => ({ text: said(t), r: t.getBoundingClientRect(), at: +t.dataset.at }));
      const out = boxes.filter(({ r }) => r.left < outer.left - 1 || r.right > outer.right + 1 || r.top < outer.top - 1 || r.bottom > outer.bottom + 1).map((b) => b.text);
      const overlaps = [];
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1) overlaps.push(boxes[i].text + " / " + boxes[j].text);
      }
      const latest = boxes.reduce((m, b) => (!m || b.at >= m.at ? b : m), null);
      const lines = [...fig.querySelectorAll("line.marker")].map((l) => l.getBoundingClientRect().left);
      const last = Math.max(...lines);
      const clock = (t) => { const m = /(?:(\d+)h)?(\d+)m(\d+)s/.exec(t); return (+m[1] || 0) * 3600 + +m[2] * 60 + +m[3]; };
      const from = clock(fig.querySelector('[data-live$="/from"]').textContent);
      return { out, overlaps, latest: latest && latest.text, latestAt: latest && latest.at, from, lastInPlot: last >= plot.left && last <= plot.right,
        revLines: fig.querySelectorAll("svg.plot polyline.rev[data-grow]").length, legend: fig.querySelector(".legend").textContent,
        revKeys: [...fig.querySelectorAll(".legend span")].filter((s) => s.textContent.startsWith("revision")).length };
    });
    if (seen.out.length) await fail("marker labels outside their chart: " + seen.out.join(", "));
    if (seen.overlaps.length) await fail("marker labels cover each other: " + seen.overlaps.join(", "));
    if (!seen.lastInPlot) await fail("the latest action's marker is outside the timeline's window");
    if (seen.latest !== "rollout undo") await fail("the latest marker should say what changed ('rollout undo'), not " + JSON.stringify(seen.latest));
    if (!(seen.latestAt - seen.from >= 19)) await fail("the window should show the time before the latest action: it starts at " + seen.from + " s, the action is at " + seen.latestAt + " s");
    // Revisions 1, 2 (the rollout), 3 (set image v1: the course manifest's template, a new
    // ReplicaSet) and the undo's 4, which is revision 2's ReplicaSet again: three lines.
    if (seen.revLines !== 3 || seen.revKeys !== 3 || /revision 4 \(desired\)/.test(seen.legend)) await fail("one line per ReplicaSet across the rollback: " + seen.revLines + " lines, legend " + seen.legend);
    if (shots) {
      const box = await p.locator(".timeline-panel").boundingBox();
      await p.evaluate(() => { document.querySelector("header.top").style.position = "static"; });
      await p.screenshot({ path: shots + "/timeline-rollback.png", clip: { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, 420) }, fullPage: true });
      await p.evaluate(() => { document.querySelector("header.top").style.position = ""; });
    }
    // Zoom in, then the whole run (a link: it works without JavaScript).
    await p.click(".timeline-window [data-zoom=in]");
    const zoomed = await p.evaluate(() => { const v = document.querySelector("#timeline svg.plot").getAttribute("viewBox").split(" ").map(Number); return v[2]; });
    if (!(zoomed <= 31)) await fail("zoom in should halve the window to about 30 s, not " + zoomed);
  }
  async function wholeRunTimeline(p) {
    await p.goto(base + "/?timeline=whole", { waitUntil: "domcontentloaded" });
    const from = await p.textContent('#timeline [data-live$="/from"]');
    if (from !== "0m00s") await fail("the whole run starts at 0m00s, not " + from);
    await p.waitForTimeout(1500);
    const still = await p.textContent('#timeline [data-live$="/from"]');
    if (still !== "0m00s") await fail("the live stream should keep the whole run, not move to " + still);
  }

  // Presenter mode (issue 16, part 8) at 1920x1080: every text at least 24px, the compare
  // view's summary at the top, the keys doing what the buttons do, the moment as an SVG image.
  async function presenterMode() {
    const slide = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    slide.on("pageerror", (e) => console.error("page error: " + e.message));
    const smallText = () => {
      const small = [];
      for (const el of document.querySelectorAll("body *")) {
        if (el.closest("svg") || el.offsetParent === null || el.closest("details:not([open]) > :not(summary)")) continue;
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.nodeValue.trim());
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (own && size < 24) small.push(el.tagName.toLowerCase() + "." + el.className + " " + size + "px: " + el.textContent.trim().slice(0, 40));
      }
      return small.slice(0, 10);
    };
    for (const path of ["/?present", "/compare?present"]) {
      await slide.goto(base + path, { waitUntil: "domcontentloaded" });
      await slide.evaluate(toTop);
      const small = await slide.evaluate(smallText);
      if (small.length) await fail("presenter mode " + path + " has text under 24px:\n" + small.join("\n"));
      // A text field scrolls the command it holds (the console keeps the last one typed).
      const problems = (await slide.evaluate(layoutProblems)).filter((p) => !/^input#\S+ cuts its text/.test(p));
      if (problems.length) await fail("presenter mode " + path + " breaks the layout:\n" + problems.join("\n"));
    }
    const where = await slide.evaluate(() => ({
      summary: document.getElementById("compare-summary").getBoundingClientRect(),
      panel: document.querySelector("main.compare > .panel").getBoundingClientRect(),
      header: document.querySelector("header.top").getBoundingClientRect(),
    }));
    if (!(where.summary.bottom <= where.panel.top + 1 && where.summary.top <= where.header.bottom + 1)) await fail("the compare summary should lead the slide, under the header: " + JSON.stringify(where));
    if (shots) await slide.screenshot({ path: shots + "/compare-present-1920x1080.png" });
    // The keys: → steps (and pauses), space plays and pauses, u undoes, b breaks the image.
    const speed = () => slide.textContent("#compare-clock .speed");
    await slide.keyboard.press("ArrowRight");
    await expectSoon(slide, "→ goes to the next event, paused", () => document.querySelector("#compare-clock .speed").classList.contains("paused"));
    await slide.keyboard.press(" ");
    await expectSoon(slide, "space plays", () => !document.querySelector("#compare-clock .speed").classList.contains("paused"));
    await slide.keyboard.press(" ");
    await expectSoon(slide, "space pauses again", () => document.querySelector("#compare-clock .speed").classList.contains("paused"));
    await slide.keyboard.press("u");
    await expectSoon(slide, "u undoes the rollout on both sides (revision 3 pods appear)", () =>
      ["left", "right"].every((s) => [...document.querySelectorAll("#" + s + "-cluster .pod")].some((p) => p.textContent.split(" ")[1] === "r3")), undefined, 30000);
    await slide.keyboard.press("b");
    await expectSoon(slide, "b breaks the image on both sides", () => document.getElementById("compare-summary").textContent.includes("credit-scoring-api:broken"));
    if ((await speed()).includes("paused")) await fail("b should run the clock, as the button does");
    // The slide holds the whole rollout: every pod of both sides on the first screen, the
    // buttons in one row, nothing cut.
    await expectSoon(slide, "during the broken rollout every pod tile is on the slide", () => {
      const pods = [...document.querySelectorAll("main.compare .pod")];
      const each = ["left", "right"].every((s) => document.querySelectorAll("#" + s + "-cluster .pod").length >= 10);
      return each && pods.some((p) => p.classList.contains("creating")) && pods.every((p) => p.getBoundingClientRect().bottom <= innerHeight);
    });
    const rows = await slide.evaluate(() => new Set([...document.querySelectorAll("header.top .controls > *")].filter((e) => e.offsetParent).map((e) => Math.round(e.getBoundingClientRect().top))).size);
    if (rows !== 1) await fail("presenter mode's buttons should fit one row at 1920x1080, not " + rows);
    const broken = (await slide.evaluate(layoutProblems)).filter((p) => !/^input#\S+ cuts its text/.test(p));
    if (broken.length) await fail("presenter mode during a rollout breaks the layout:\n" + broken.join("\n"));
    if (shots) await slide.screenshot({ path: shots + "/compare-present-rollout-1920x1080.png" });
    const res = await fetch(base + "/compare.svg");
    const svg = await res.text();
    if (res.headers.get("content-type") !== "image/svg+xml" || !svg.startsWith("<svg xmlns=") || !svg.includes("credit-scoring-api:broken")) await fail("/compare.svg should be the moment as an SVG image: " + res.headers.get("content-type") + " " + svg.slice(0, 200));
    if (shots) {
      // As a slide shows it: the image in a page (a bare SVG document never reports its fonts
      // loaded to the screenshot).
      await slide.setContent('<body style="margin:0"><img src="' + base + '/compare.svg" width="1920"></body>');
      await slide.waitForFunction(() => document.querySelector("img").complete);
      await slide.screenshot({ path: shots + "/compare-export.png", fullPage: true });
    }
    await slide.close();
  }

  await page.goto(base + "/", { waitUntil: "domcontentloaded" });

  // The demo: 10 ready pods of revision 1, spread over three nodes.
  await expectSoon(page, "the demo shows 10 ready pods of revision 1", () =>
    document.querySelectorAll("#cluster .pod.ready").length >= 10 &&
    [...document.querySelectorAll("#cluster .pod.ready")].every((p) => p.textContent.split(" ")[1] === "r1"));
  const nodes = await page.$$eval("#cluster .node", (ns) => ns.length);
  if (nodes !== 3) await fail("expected 3 nodes, saw " + nodes);
  await layoutHolds(page, "at 1280x720");
  // One namespace at a time: the demo's, with its pods under their Deployment's name; the
  // console runs there too, and all namespaces are one choice away.
  const ns = await page.$eval("#namespaces select", (s) => s.value);
  if (ns !== "live-coding") await fail("the namespace picker should start on the demo's live-coding, not " + JSON.stringify(ns));
  const stray = await page.$$eval("#cluster .pod", (ps) => ps.filter((p) => p.closest(".owner")?.querySelector(".owner-name").textContent !== "deploy/credit-scoring-api").map((p) => p.textContent));
  if (stray.length) await fail("pod tiles outside their Deployment's group: " + stray.join(", "));
  await page.fill("#cmd", "get pods");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "get pods without -n lists the demo's pods", () => document.getElementById("console-out").textContent.includes("credit-scoring-api-") && document.getElementById("console-ns").textContent === "live-coding");
  await page.selectOption("#namespaces select", "");
  await expectSoon(page, "all namespaces shows namespace/owner groups", () => document.querySelector("#cluster .count").textContent.includes("in all namespaces") && document.querySelector("#cluster .owner-name").textContent === "live-coding/deploy/credit-scoring-api" && document.getElementById("console-ns").textContent === "default");
  await page.selectOption("#namespaces select", "live-coding");
  await expectSoon(page, "back in live-coding", () => document.querySelector("#cluster .count").textContent.includes("in namespace live-coding"));
  if (shots) await page.screenshot({ path: shots + "/first-screen-1280x720.png" });
  const projector = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await projector.goto(base + "/", { waitUntil: "domcontentloaded" });
  await layoutHolds(projector, "at 1920x1080");
  if (shots) await projector.screenshot({ path: shots + "/first-screen-1920x1080.png" });
  // The image catalogue the legend links to: every image with what it does, nothing cut.
  await projector.goto(base + "/images", { waitUntil: "domcontentloaded" });
  const listed = await projector.$$eval("table.images tbody tr", (rows) => rows.length);
  if (listed < 15) await fail("the image catalogue lists " + listed + " images");
  const catalogueProblems = await projector.evaluate(layoutProblems);
  if (catalogueProblems.length) await fail("the image catalogue's layout breaks:\n" + catalogueProblems.join("\n"));
  if (shots) await projector.screenshot({ path: shots + "/images-1920x1080.png" });
  await projector.close();

  // Live updates: the clock moves without a reload.
  // (Within 10 s: with every test running at once, a debug build can fall behind 1×.)
  const t1 = await page.textContent("#clock .time");
  await expectSoon(page, "the clock moves (it showed " + t1 + ")", (t1) => document.querySelector("#clock .time").textContent !== t1, t1, 10000);

  // Traffic: the demo sends 800 requests/s to the real model; its chart sits under the
  // Deployment's, and at 1x every request runs in WebAssembly.
  await expectSoon(page, "the traffic chart shows 800 req/s with p50 and p99 lines", () => {
    const fig = document.querySelector("#timeline figure.traffic");
    return fig && fig.textContent.includes("now 800 req/s") && fig.querySelector("polyline.p99") && fig.querySelector("polyline.requests");
  });
  const sampling = await page.textContent("#timeline .sampling");
  if (!sampling.includes("every request runs in WebAssembly")) await fail("at 1x every request should run in wasm: " + sampling);
  await page.click("#traffic-form button[formaction='/request']");
  await expectSoon(page, "one request gets the model's prediction", () => document.getElementById("console-out").textContent.includes('"probability_of_default"'));
  await page.click("#traffic-form button[formaction='/traffic/stop']");
  await expectSoon(page, "stop traffic is acknowledged", () => document.getElementById("console-out").textContent.includes("stopped"));
  await page.fill("#traffic-form input[name=rps]", "120");
  await page.click("#traffic-form button:not([formaction])");
  await expectSoon(page, "new traffic shows in the chart", () => (document.querySelector("#timeline figure.traffic figcaption") || {}).textContent?.includes("now 120 req/s"));
  await page.fill("#traffic-form input[name=rps]", "-1");
  await page.click("#traffic-form button:not([formaction])");
  await expectSoon(page, "a bad rps is refused with a message", () => document.getElementById("console-out").textContent.includes("rps must be"));

  // Apply the course manifest with a new image, at 30x.
  await page.click("form[action='/control/play?speed=30'] button");
  await page.click("#apply-form button");
  await expectSoon(page, "apply prints configured", () => document.getElementById("apply-out").textContent.includes("deployment.apps/credit-scoring-api configured"));
  await expectSoon(page, "pods of revision 2 appear", () => [...document.querySelectorAll("#cluster .pod")].some((p) => / r2 /.test(p.textContent)));
  if (shots) await page.evaluate(toTop), await page.screenshot({ path: shots + "/rollout.png" });
  // Both ReplicaSets of the rollout are in sight on the first screen, the old one with its ten
  // pods and the new one, not scrolled out of the Deployments panel.
  await page.evaluate(toTop);
  const outOfSight = await page.evaluate(() => {
    const panel = document.getElementById("deployments");
    const box = panel.getBoundingClientRect();
    const rows = [...panel.querySelectorAll("table.rss tbody tr")];
    if (rows.length < 2) return ["only " + rows.length + " ReplicaSet row(s)"];
    return rows.filter((r) => { const b = r.getBoundingClientRect(); return b.top < box.top || b.bottom > Math.min(box.bottom, innerHeight) + 1; })
      .map((r) => r.textContent.replace(/\s+/g, " ").trim());
  });
  if (outOfSight.length) await fail("during a rollout at 1280x720, ReplicaSet rows out of sight: " + outOfSight.join(" | "));
  await layoutHolds(page, "during a rollout at 1280x720");
  // A student closes "Why did the controller do that?": updates must not open it again.
  await page.evaluate(() => { document.querySelector("#deployments details.why").open = false; });
  await expectSoon(page, "revision 1 disappears and 10 pods of revision 2 are ready", () => {
    const revs = [...document.querySelectorAll("#cluster .pod.ready")].map((p) => p.textContent.split(" ")[1]);
    return revs.length === 10 && revs.every((r) => r === "r2") && !document.querySelector("#cluster .pod.terminating");
  }, undefined, 30000);
  await expectSoon(page, "the deployment panel explains the scale-down", () => document.getElementById("deployments").textContent.includes("maxScaledDown"));
  if (await page.evaluate(() => document.querySelector("#deployments details.why").open)) await fail("a closed 'why' section opened again on an update");
  await expectSoon(page, "the timeline shows both revisions", () => document.querySelectorAll("#timeline polyline.rev").length >= 2);
  const fast = await page.textContent("#timeline .sampling");
  if (!/sampled 1 in \d+/.test(fast)) await fail("at 30x the chart should say it samples: " + fast);

  // Pause: time stops.
  await page.click("form[action='/control/pause'] button");
  await expectSoon(page, "pause shows paused", () => document.querySelector("#clock .speed").textContent.includes("paused"));
  const paused = await page.textContent("#clock .time");
  await page.waitForTimeout(1200);
  if ((await page.textContent("#clock .time")) !== paused) await fail("time moved while paused");
  await clusterMatchesServer("after the rollout");
  // The timeline's lines grew by appended points rather than being sent again.
  if (!(await page.evaluate(() => window.kubesim.appended > 0))) await fail("no timeline line grew by appended points");
  // The other panels were morphed in place: they must equal a fresh render too.
  const stale = await page.evaluate(async () => {
    const fresh = new DOMParser().parseFromString(await (await fetch("/")).text(), "text/html");
    for (const d of document.querySelectorAll("#deployments details")) d.open = true;
    for (const d of fresh.querySelectorAll("#deployments details")) d.open = true;
    // "12s ago" is the page's own reading of the virtual clock, as the events' ages are.
    const agos = [...document.querySelectorAll("#deployments .ago")];
    const badAgo = agos.filter((a) => !/^\d[\dsmhdy]* ago$/.test(a.textContent)).map((a) => a.textContent);
    if (!agos.length || badAgo.length) return ["deployments' decision times " + JSON.stringify(badAgo)];
    for (const a of agos) a.textContent = "";
    return ["deployments", "timeline", "events"].filter((id) => !document.getElementById(id).isEqualNode(fresh.getElementById(id)));
  });
  if (stale.length) await fail("morphed panels differ from the server's render: " + stale.join(", "));
  // The events panel's ages are computed in the page: as kubectl prints them.
  const ages = JSON.parse(process.env.KUBESIM_AGES || "[]");
  const wrongAges = await page.evaluate((ages) => ages.filter(([ms, text]) => window.kubesim.age(ms) !== text), ages);
  if (!ages.length || wrongAges.length) await fail("ages differ from kubectl's: " + JSON.stringify(wrongAges) + " of " + ages.length);
  await page.click("form[action='/control/play?speed=1'] button");
  await expectSoon(page, "play resumes", () => !document.querySelector("#clock .speed").textContent.includes("paused"));

  // The kubectl console.
  await page.fill("#cmd", "rollout history deployment/credit-scoring-api -n live-coding");
  await page.click("#console-form button");
  await expectSoon(page, "rollout history lists revision 2", () => /REVISION\s+CHANGE-CAUSE[\s\S]*\n2\s/.test(document.getElementById("console-out").textContent));
  // A terminal's scrollback and history: earlier commands and their output stay, newest at
  // the bottom in view; ↑ brings back the last command, ↓ the draft.
  const scroll = await page.evaluate(() => {
    const pre = document.getElementById("console-out");
    const t = pre.textContent;
    return { first: t.indexOf("$ kubectl get pods\n"), last: t.lastIndexOf("$ kubectl rollout history"), atEnd: pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 2 };
  });
  if (!(scroll.first >= 0 && scroll.last > scroll.first && scroll.atEnd)) await fail("the console should keep every command of the run, newest at the bottom: " + JSON.stringify(scroll));
  await page.fill("#cmd", "get no");
  await page.press("#cmd", "ArrowUp");
  if ((await page.inputValue("#cmd")) !== "rollout history deployment/credit-scoring-api -n live-coding") await fail("↑ should bring back the last command, not " + (await page.inputValue("#cmd")));
  await page.press("#cmd", "ArrowDown");
  if ((await page.inputValue("#cmd")) !== "get no") await fail("↓ should come back to the draft, not " + (await page.inputValue("#cmd")));

  // Tab completes as a shell's kubectl completion does: a verb's subcommand, then a name.
  await page.fill("#cmd", "rollout stat");
  await page.press("#cmd", "Tab");
  await expectSoon(page, "Tab completes rollout stat to status", () => document.getElementById("cmd").value === "rollout status ");
  await page.fill("#cmd", "get deployments cred");
  await page.press("#cmd", "Tab");
  await expectSoon(page, "Tab completes a Deployment's name in the namespace", () => document.getElementById("cmd").value === "get deployments credit-scoring-api ");
  await page.fill("#cmd", "get po");
  await page.press("#cmd", "Tab");
  await expectSoon(page, "several completions are listed under the prompt", () => { const c = document.getElementById("console-choices"); return c && !c.hidden && c.textContent.includes("pods") && c.textContent.includes("poddisruptionbudgets"); });

  // A watch streams: the header once, then a row per change, until Ctrl-C.
  const lastEntry = (start) => { const t = document.getElementById("console-out").textContent; return t.slice(t.lastIndexOf("$ kubectl " + start)); };
  await page.fill("#cmd", "get deploy -w");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "get deploy -w prints the table and keeps running", (f) => { const last = new Function("return " + f)()("get deploy -w"); const stop = document.getElementById("console-stop"); return /NAME\s+READY/.test(last) && last.includes("credit-scoring-api") && stop && !stop.hidden; }, lastEntry.toString());
  const scale = (n) => page.evaluate(async (n) => {
    const token = document.querySelector('meta[name="kubesim-form"]').content;
    const res = await fetch("/kubectl", { method: "POST", body: new URLSearchParams({ cmd: "scale deployment credit-scoring-api --replicas=" + n, _form: token }), headers: { Accept: "application/json", "X-Kubesim-Form": token } });
    return (await res.json()).stdout;
  }, n);
  if (!(await scale(11)).includes("scaled")) await fail("scaling from another request failed");
  await expectSoon(page, "the watch prints a row for the change, without the header again", (f) => { const last = new Function("return " + f)()("get deploy -w"); return /\ncredit-scoring-api\s+\d+\/11/.test(last) && last.match(/NAME/g).length === 1; }, lastEntry.toString());
  if (shots) await page.screenshot({ path: shots + "/console-watch.png" });
  await page.focus("#cmd");
  await page.keyboard.press("Control+C");
  await expectSoon(page, "Ctrl-C stops the watch", () => { const t = document.getElementById("console-out").textContent; const stop = document.getElementById("console-stop"); return t.endsWith("^C\n") && stop.hidden && stop.offsetParent === null; });
  await scale(10);
  await expectSoon(page, "the server kept the stopped watch in the scrollback", async () => {
    const fresh = new DOMParser().parseFromString(await (await fetch("/")).text(), "text/html");
    const t = fresh.getElementById("console-out").textContent;
    return /\$ kubectl get deploy -w\nNAME[\s\S]*\^C\n/.test(t);
  });
  const after = await page.evaluate(() => { const t = document.getElementById("console-out").textContent; return t.slice(t.lastIndexOf("^C")); });
  if (after !== "^C\n") await fail("a stopped watch went on printing: " + after);

  // kubectl edit opens the object in the page's YAML editor.
  await page.fill("#cmd", "edit deploy/credit-scoring-api");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "edit fills the YAML editor and says so", () => {
    const y = document.getElementById("yaml").value;
    return y.startsWith("# Please edit the object below.") && y.includes("name: credit-scoring-api") && document.getElementById("console-out").textContent.includes("Editing deployment.apps/credit-scoring-api in the YAML editor");
  });

  // A rollback in the middle of a rollout renumbers a ReplicaSet that still has pods: revision
  // 2 becomes 4, and its tiles move after revision 3's.
  await page.click("form[action='/control/pause'] button");
  for (const cmd of ["set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v1 -n live-coding", "rollout undo deployment/credit-scoring-api -n live-coding"]) {
    await page.fill("#cmd", cmd);
    await page.click("#console-form button");
    await expectSoon(page, cmd + " is acknowledged", (c) => { const t = document.getElementById("console-out").textContent; const last = t.slice(t.lastIndexOf("$ kubectl ")); return last.startsWith("$ kubectl " + c + "\n") && /(updated|rolled back)/.test(last); }, cmd);
  }
  await expectSoon(page, "revision 4 tiles are shown", () => [...document.querySelectorAll("#cluster .pod")].some((p) => p.textContent.split(" ")[1] === "r4"));
  await clusterMatchesServer("after a rollback renumbered a ReplicaSet");
  await timelineFollowsTheRollback(page);
  await page.click("form[action='/control/play?speed=1'] button");
  await wholeRunTimeline(page);
  await page.goto(base + "/", { waitUntil: "domcontentloaded" });

  // A pod's details.
  await page.click("#cluster .pod.ready");
  await expectSoon(page, "pod details show describe and logs", () => {
    const d = document.getElementById("drawer");
    return !d.hidden && d.textContent.includes("Containers:") && d.textContent.includes("Events:");
  });
  if (shots) await page.evaluate(toTop), await page.screenshot({ path: shots + "/pod-details.png" });
  await page.keyboard.press("Escape");

  // An apply error is shown next to its line.
  await page.fill("#yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typo, namespace: live-coding}\nspec:\n  replcas: 3\n  selector: {matchLabels: {app: typo}}\n  template:\n    metadata: {labels: {app: typo}}\n    spec:\n      containers: [{name: c, image: nginx:1.27}]\n");
  await page.click("#apply-form button");
  await expectSoon(page, "the strict decoding error names the field and its line", () => {
    const t = document.getElementById("apply-out").textContent;
    return t.includes('unknown field "spec.replcas"') && t.includes("(see line 5)");
  });
  await expectSoon(page, "the editor marks line 5 and says why on that line", () => {
    const box = document.querySelector("#apply-form .editor");
    const bad = [...box.querySelectorAll(".gutter .bad")].map((b) => b.textContent);
    const note = box.querySelector(".inline-error");
    const ta = box.querySelector("textarea");
    const lineTop = ta.getBoundingClientRect().top + 1 + 6 + 4 * 18 - ta.scrollTop;
    return bad.join() === "5" && !note.hidden && note.textContent === '◀ unknown field "spec.replcas"' &&
      Math.abs(note.getBoundingClientRect().top - lineTop) <= 2;
  });
  if (shots) await page.evaluate(toTop), await page.screenshot({ path: shots + "/sandbox.png" });
  if (shots) {
    const box = await page.locator("#apply-form").boundingBox();
    await page.screenshot({ path: shots + "/apply-error.png", clip: { x: box.x - 8, y: box.y - 8, width: box.width + 16, height: box.height + 16 }, fullPage: true });
  }
  await page.type("#yaml", " ");
  await expectSoon(page, "editing the YAML clears the mark", () => document.querySelector("#apply-form .inline-error").hidden && !document.querySelector("#apply-form .gutter .bad"));
  // An invalid object lists its causes under a first line; the note says the marked line's.
  await page.fill("#yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: minus, namespace: live-coding}\nspec:\n  replicas: -1\n  selector: {matchLabels: {app: minus}}\n  template:\n    metadata: {labels: {app: minus}}\n    spec:\n      containers: [{name: c, image: nginx:1.27}]\n");
  await page.click("#apply-form button");
  await expectSoon(page, "an Invalid error's note names the field and why", () => {
    const note = document.querySelector("#apply-form .inline-error");
    const bad = [...document.querySelectorAll("#apply-form .gutter .bad")].map((b) => b.textContent);
    return bad.join() === "5" && !note.hidden &&
      note.textContent === "◀ spec.replicas: Invalid value: -1: must be greater than or equal to 0";
  });

  // The compare view: Recreate against maxSurge 2 / maxUnavailable 0.
  await page.goto(base + "/compare", { waitUntil: "domcontentloaded" });
  await page.click("form[action='/compare/speed?speed=5'] button");
  await expectSoon(page, "the summary says nothing changed yet", () => document.getElementById("compare-summary").textContent.includes("No change yet"));
  await page.click("form[action='/compare/image?kind=good'] button");
  await expectSoon(page, "the summary line appears live", () => document.getElementById("compare-summary").textContent.includes("Both sides got registry.local/credit-scoring-api:v2"));
  await expectSoon(page, "Recreate drops to zero ready pods while the rolling side keeps 10", () => {
    const left = document.querySelectorAll("#left-cluster .pod.ready").length;
    const right = document.querySelectorAll("#right-cluster .pod.ready").length;
    return left === 0 && right >= 10;
  });
  if (shots) await page.evaluate(toTop), await page.screenshot({ path: shots + "/compare.png" });
  await expectSoon(page, "both sides finish on revision 2", () =>
    ["left", "right"].every((s) => {
      const revs = [...document.querySelectorAll("#" + s + "-cluster .pod.ready")].map((p) => p.textContent.split(" ")[1]);
      return revs.length === 10 && revs.every((r) => r === "r2");
    }), undefined, 40000);

  await expectSoon(page, "the summary line follows both rollouts to the end", () => {
    const t = document.getElementById("compare-summary").textContent;
    return t.split("rolled out in").length === 3 && /Recreate: rolled out in [^;]+; 10 of 10 updated, 10 available; \d+ failed requests/.test(t) && t.includes("no failed requests");
  }, undefined, 40000);

  // Under traffic, Recreate's rollout shows as failed requests; maxSurge 2 stays flat.
  await expectSoon(page, "the compare view charts the traffic: errors under Recreate", () =>
    document.querySelector("#left-timeline figure.traffic polyline.errors") && document.querySelector("#right-timeline figure.traffic polyline.p99") &&
    document.querySelector("#left-timeline figure.traffic rect.outage"));
  if (shots) {
    await page.evaluate(() => { document.querySelector("header.top").style.position = "static"; window.scrollTo(0, 0); });
    const boxes = await Promise.all(["#left-timeline", "#right-timeline"].map(async (id) => (await page.$(id)).boundingBox()));
    const x = Math.min(...boxes.map((b) => b.x)), y = Math.min(...boxes.map((b) => b.y));
    const right = Math.max(...boxes.map((b) => b.x + b.width)), bottom = Math.max(...boxes.map((b) => b.y + b.height));
    await page.screenshot({ path: shots + "/traffic.png", clip: { x: x - 8, y: y - 36, width: right - x + 16, height: bottom - y + 44 }, fullPage: true });
  }

  await presenterMode();

  // Two tabs on one sandbox agree.
  const a = await browser.newPage();
  const b = await browser.newPage();
  await a.goto(base + "/");
  await b.goto(base + "/");
  await a.click("form[action='/control/pause'] button");
  for (const tab of [a, b]) await expectSoon(tab, "both tabs show paused", () => document.querySelector("#clock .speed").textContent.includes("paused"));
  const ta = await a.textContent("#clock .time");
  const tb = await b.textContent("#clock .time");
  if (ta !== tb) await fail("two tabs disagree on the paused clock: " + ta + " vs " + tb);

  // Without JavaScript, an exported run opens from the plain form.
  const run = await (await fetch(base + "/export")).text();
  // A form post from outside a browser (no Origin, no Sec-Fetch-Site) carries the page's form token.
  const token = (await (await fetch(base + "/")).text()).match(/<meta name="kubesim-form" content="([^"]+)"/)[1];
  const scaled = await fetch(base + "/kubectl", { method: "POST", body: new URLSearchParams({ _form: token, cmd: "scale deployment/credit-scoring-api --replicas=4 -n live-coding" }), headers: { Accept: "application/json" } });
  if (scaled.status !== 200) await fail("the console refused a form post with its token: " + scaled.status);
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  await plain.goto(base + "/");
  if (!(await plain.textContent("#deployments")).includes("4 desired")) await fail("the scale to 4 is not shown without JavaScript");
  await plain.setInputFiles("form.import input[type=file]", { name: "kubesim-run.yaml", mimeType: "application/yaml", buffer: Buffer.from(run) });
  await Promise.all([plain.waitForNavigation(), plain.click("form.import button")]);
  if (new URL(plain.url()).pathname !== "/") await fail("opening a run should come back to the page, not " + plain.url());
  if (!(await plain.textContent("#deployments")).includes("10 desired")) await fail("the opened run (10 replicas) is not shown without JavaScript");
  await plain.setInputFiles("form.import input[type=file]", { name: "bad.yaml", mimeType: "application/yaml", buffer: Buffer.from("steps: [{nonsense: 1}]") });
  await Promise.all([plain.waitForNavigation(), plain.click("form.import button")]);
  if (!(await plain.textContent("body")).includes("cannot open this run")) await fail("a bad run file should say why");
  await noJs.close();

  // rollout status streams kubectl's texts until the rollout completes.
  await page.goto(base + "/", { waitUntil: "domcontentloaded" });
  await page.click("form[action='/control/pause'] button");
  await page.fill("#cmd", "rollout restart deployment/credit-scoring-api");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "rollout restart is acknowledged", () => document.getElementById("console-out").textContent.includes("deployment.apps/credit-scoring-api restarted"));
  await page.fill("#cmd", "rollout status deployment/credit-scoring-api");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "rollout status waits while the clock is paused", () => { const stop = document.getElementById("console-stop"); return stop && !stop.hidden; });
  await page.click("form[action='/control/play?speed=30'] button");
  await expectSoon(page, "rollout status streams until the rollout is done", (f) => { const last = new Function("return " + f)()("rollout status"); const stop = document.getElementById("console-stop"); return /Waiting for deployment "credit-scoring-api" rollout to finish: \d+ out of \d+ new replicas have been updated\.\.\./.test(last) && last.endsWith('deployment "credit-scoring-api" successfully rolled out\n') && stop.offsetParent === null; }, lastEntry.toString(), 60000);
  await page.click("form[action='/control/play?speed=1'] button");

  // The timeline follows the restart; zooming out past the window's start goes on in the
  // whole run's view at that zoom.
  const clock = (t) => { const m = /(?:(\d+)h)?(\d+)m(\d+)s/.exec(t); return (+m[1] || 0) * 3600 + +m[2] * 60 + +m[3]; };
  const followFrom = clock(await page.textContent('#timeline figure.timeline [data-live$="/from"]'));
  if (!(followFrom > 0)) await fail("after the restart the timeline should follow it, not start at " + followFrom);
  for (let i = 0; i < 12 && !page.url().includes("timeline=whole"); i++) {
    await page.click(".timeline-window [data-zoom=out]");
    await page.waitForTimeout(200);
  }
  await page.waitForLoadState("domcontentloaded");
  await expectSoon(page, "zooming out past the following window's start shows earlier times", (from) => {
    const m = /(?:(\d+)h)?(\d+)m(\d+)s/.exec(document.querySelector('#timeline figure.timeline [data-live$="/from"]').textContent);
    return location.search.includes("timeline=whole") && /span=\d+/.test(location.hash) && m && (+m[1] || 0) * 3600 + +m[2] * 60 + +m[3] < from;
  }, followFrom);

  // A phone, 390 px wide: read-only is fine, but nothing makes the page scroll sideways.
  for (const path of ["/", "/compare", "/images"]) {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(base + path, { waitUntil: "domcontentloaded" });
    await phone.waitForTimeout(300);
    const wide = await phone.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const out = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > vw + 1 && !e.parentElement.closest("pre, textarea, table, svg, #cluster, #console-out, .timeline, .scroll")).slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + String(e.className).split(" ")[0] + " " + Math.round(e.getBoundingClientRect().right));
      return { width: document.documentElement.scrollWidth, vw, out };
    });
    if (shots) await phone.screenshot({ path: shots + "/phone-390" + path.replace(/\//g, "-") + ".png" });
    if (wide.width > wide.vw + 1) await fail("at 390 px " + path + " scrolls sideways: " + JSON.stringify(wide));
    await phone.close();
  }

  console.log("ok: the browser saw the demo, traffic and its chart, a rollout, tiles patched from data, pause, the console, pod details, an apply error, the compare view and its live summary, a run opened without JavaScript, two tabs agree, a streamed watch stopped with Ctrl-C, rollout status to the end, edit, Tab completion and a 390 px phone");
  await browser.close();
} catch (e) {
  await fail(e.stack || String(e));
}
