// The student's path through course scenario 5 in a real browser (Debian's chromium,
// headless), and the instructor's folder followed live:
// usage: node scenario.mjs http://127.0.0.1:PORT SCENARIO_DIR [screenshot-dir]
// The server serves SCENARIO_DIR (holding 05-broken-release.yaml) with --scenarios.
// Exits non-zero with a message at the first expectation a student would notice failing.
import { launch, expectations, checksPanel, typeKubectl, toTop } from "./harness.mjs";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [base, dir, shots] = process.argv.slice(2);
if (!base || !dir) {
  console.error("usage: node scenario.mjs BASE_URL SCENARIO_DIR [SCREENSHOT_DIR]");
  process.exit(2);
}

const browser = await launch();
const { fail, expectSoon } = expectations(browser, 30000, checksPanel);
const shot = async (page, name) => {
  if (shots) await page.evaluate(toTop), await page.screenshot({ path: shots + "/" + name + ".png" });
};

// Types a command into the console as a student would and waits for its output.
const kubectl = (page, cmd, expect) => typeKubectl(page, expectSoon, cmd, expect);
const allGreen = () => {
  const checks = document.querySelectorAll("#checks .check");
  return checks.length > 0 && [...checks].every((c) => c.classList.contains("pass"));
};
async function nextStep(page, n, title) {
  await expectSoon(page, "step " + (n - 1) + " offers the next step", () => !!document.querySelector("#checks form.next button"));
  await page.click("#checks form.next button");
  await expectSoon(page, "step " + n + " is shown", (t) => document.querySelector(".step-panel h2").textContent.includes(t), "Step " + n + " of 5: " + title);
}

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (e) => console.error("page error: " + e.message));

  // The list: the instructor's folder.
  await page.goto(base + "/scenarios", { waitUntil: "domcontentloaded" });
  await expectSoon(page, "the list shows scenario 5", () => document.body.textContent.includes("A broken release, caught and rolled back"));

  // A file dropped into the folder appears without a reload by hand; a broken one shows its line.
  const one = readFileSync(join(dir, "05-broken-release.yaml"), "utf8");
  writeFileSync(join(dir, "my-copy.yaml"), one.replace("title: A broken release", "title: My own broken release"));
  writeFileSync(join(dir, "typo.yaml"), "title: Typo\nsteps:\n  - title: x\n    txt: y\n");
  await expectSoon(page, "the new file is listed", () => document.body.textContent.includes("My own broken release"), undefined, 15000);
  await expectSoon(page, "the broken file shows its error with file:line", () => /typo\.yaml:4: error: steps\[0\]: unknown field `txt`/.test(document.body.textContent), undefined, 15000);
  await shot(page, "scenario-list");

  // Scenario 5, step 1.
  await page.click("a[href='/scenarios/05-broken-release']");
  // A GET only shows the scenario: starting it (its setup) is the Start button's POST.
  await page.click("form[action$='/start'] button");
  await expectSoon(page, "step 1 is shown", () => document.querySelector(".step-panel h2")?.textContent.includes("Step 1 of 5: Ship v2 without losing capacity"));
  await expectSoon(page, "10 ready pods", () => document.querySelectorAll("#cluster .pod.ready").length === 10);
  if (await page.$$eval(".step-text .code .copy", (b) => b.length) < 2) await fail("code blocks have no copy button");
  // A copy button never covers a command: no line of a code block runs under it.
  const covered = await page.$$eval(".step-text .code", (blocks) => blocks.flatMap((b) => {
    const btn = b.querySelector(".copy").getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(b.querySelector("pre"));
    return [...range.getClientRects()].filter((r) => r.width && r.right > btn.left && r.left < btn.right && r.bottom > btn.top && r.top < btn.bottom).map(() => b.textContent.slice(0, 60));
  }));
  if (covered.length) await fail("a copy button covers text: " + covered.join(" | "));
  if (await page.$$eval("#checks .check.fail", (c) => c.length) !== 3) await fail("three red checks expected before acting");
  // A red check speaks to the student in sentences; the expression and raw values wait in a
  // closed <details> for the instructor.
  const raw = await page.$$eval("#checks .check.fail", (cs) => cs.filter((c) => {
    const shown = c.cloneNode(true);
    for (const d of shown.querySelectorAll("details")) d.remove();
    return !c.querySelector(".said")?.textContent.trim() || shown.textContent.includes("(error:") || c.querySelector("details.found")?.open;
  }).map((c) => c.textContent.replace(/\s+/g, " ")));
  if (raw.length) await fail("a failed check shows no sentence, or a raw error: " + raw.join(" | "));
  // A click on a command in the text puts it in the console.
  await page.click(".step-text .cmdline");
  if (!(await page.inputValue("#cmd")).startsWith("get deployment credit-scoring-api")) await fail("a command line click did not fill the console");
  // A hint.
  await page.click("#hints form button");
  await expectSoon(page, "the first hint shows", () => document.querySelectorAll("#hints .hints li").length === 1);

  await page.click("form[action$='speed?speed=30'] button");
  await kubectl(page, "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding", "image updated");
  await expectSoon(page, "step 1's checks turn green", allGreen, undefined, 60000);
  await expectSoon(page, "the scenario's traffic is charted as on the main page", () => {
    const fig = document.querySelector("#traffic figure.traffic");
    return fig && fig.textContent.includes("now 20 req/s") && fig.querySelector("polyline.p99") && fig.querySelector("line.marker");
  });
  await shot(page, "scenario-step1-green");
  // The chart's lines grew by appended points, its window and caption moved in place: paused,
  // it equals the server's own render.
  await page.click("form[action$='speed?speed=pause'] button");
  await page.waitForTimeout(300);
  const chart = await page.evaluate(async () => {
    const fresh = new DOMParser().parseFromString(await (await fetch(location.pathname)).text(), "text/html");
    return { same: document.getElementById("traffic").isEqualNode(fresh.getElementById("traffic")), appended: window.kubesim.appended };
  });
  if (!chart.same || !chart.appended) await fail("the traffic chart differs from the server's render, or never grew by appends: " + JSON.stringify(chart));
  await page.click("form[action$='speed?speed=30'] button");

  // The console behaves as on the sandbox page: the scenario's namespace, Tab, a streamed
  // watch stopped with Ctrl-C, edit into the editor; the scrollback survives a reload.
  await expectSoon(page, "the namespace picker and the prompt start in the scenario's namespace", () =>
    document.querySelector("#namespaces select").value === "live-coding" && document.getElementById("console-ns").textContent === "live-coding");
  await page.fill("#cmd", "get deploy cre");
  await page.press("#cmd", "Tab");
  await expectSoon(page, "Tab completes the Deployment's name", () => document.getElementById("cmd").value === "get deploy credit-scoring-api ");
  await page.fill("#cmd", "get pods -w");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "get pods -w streams its table", () => { const t = document.getElementById("console-out").textContent; const last = t.slice(t.lastIndexOf("$ kubectl get pods -w")); const stop = document.getElementById("console-stop"); return /NAME\s+READY\s+STATUS/.test(last) && last.includes("credit-scoring-api-") && stop && !stop.hidden; });
  await page.focus("#cmd");
  await page.keyboard.press("Control+C");
  await expectSoon(page, "Ctrl-C stops it", () => document.getElementById("console-out").textContent.endsWith("^C\n") && document.getElementById("console-stop").offsetParent === null);
  await page.fill("#cmd", "edit deployment credit-scoring-api");
  await page.press("#cmd", "Enter");
  await expectSoon(page, "edit opens the Deployment in the YAML editor", () => {
    const y = document.getElementById("yaml");
    return y.closest("details").open && y.value.includes("name: credit-scoring-api") && y.value.includes("namespace: live-coding");
  });
  await shot(page, "scenario-console");

  // Reload: the progress is kept.
  await page.reload({ waitUntil: "domcontentloaded" });
  await expectSoon(page, "after a reload, step 1 is still passed with its hint shown", () =>
    document.querySelector("#checks form.next") && document.querySelectorAll("#hints .hints li").length === 1 &&
    /\$ kubectl get pods -w\nNAME[\s\S]*\^C\n[\s\S]*\$ kubectl edit deployment credit-scoring-api\n/.test(document.getElementById("console-out").textContent),
    undefined, 60000);

  // Step 2: the broken image stalls safely.
  await nextStep(page, 2, "Push a broken image");
  await kubectl(page, "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:broken -n live-coding", "image updated");
  await expectSoon(page, "step 2's checks turn green", allGreen, undefined, 60000);
  await kubectl(page, "get pods -n live-coding", "Running");

  // Step 3: diagnose; the deadline passes.
  await nextStep(page, 3, "Find out why");
  await kubectl(page, "describe deployment credit-scoring-api -n live-coding", "Replicas:");
  await expectSoon(page, "step 3's checks turn green", allGreen, undefined, 60000);
  await kubectl(page, "describe deployment credit-scoring-api -n live-coding", "ProgressDeadlineExceeded");

  // Step 4: roll back; try reset step on the way.
  await nextStep(page, 4, "Roll back");
  await page.click("form[action$='speed?speed=pause'] button");
  await kubectl(page, "rollout undo deployment/credit-scoring-api -n live-coding", "rolled back");
  await page.evaluate(() => { window.beforeReset = true; });
  await page.click("form.reset[action$='/reset'] button");
  await expectSoon(page, "reset step reloads step 4", () => !window.beforeReset && document.querySelector(".step-panel h2")?.textContent.includes("Step 4 of 5"));
  await kubectl(page, "rollout history deployment/credit-scoring-api -n live-coding", "REVISION");
  const hist = await page.evaluate(() => { const t = document.getElementById("console-out").textContent; return t.slice(t.lastIndexOf("$ kubectl rollout history")); });
  if (/\n4\s/.test(hist)) await fail("after reset step, revision 4 should not exist yet:\n" + hist);
  await page.click("form[action$='speed?speed=30'] button");
  await kubectl(page, "rollout undo deployment/credit-scoring-api -n live-coding", "rolled back");
  await expectSoon(page, "step 4's checks turn green", allGreen, undefined, 60000);

  // Step 5: any revision.
  await nextStep(page, 5, "Back to any revision");
  await kubectl(page, "rollout history deployment/credit-scoring-api -n live-coding --revision=1", "credit-scoring-api:v1");
  await kubectl(page, "rollout undo deployment/credit-scoring-api -n live-coding --to-revision=1", "rolled back");
  await expectSoon(page, "step 5's checks turn green and the scenario is complete", () => !!document.querySelector("#checks .complete"), undefined, 60000);
  await shot(page, "scenario-complete");

  // A phone, 390 px wide: nothing makes the scenario page scroll sideways.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(base + "/scenarios/05-broken-release", { waitUntil: "domcontentloaded" });
  await phone.waitForTimeout(300);
  const wide = await phone.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > vw + 1 && !e.parentElement.closest("pre, textarea, table, svg, #cluster, #console-out, .timeline")).slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + String(e.className).split(" ")[0] + " " + Math.round(e.getBoundingClientRect().right));
    return { width: document.documentElement.scrollWidth, vw, out };
  });
  if (shots) await phone.screenshot({ path: shots + "/scenario-phone-390.png" });
  if (wide.width > wide.vw + 1) await fail("at 390 px the scenario page scrolls sideways: " + JSON.stringify(wide));
  await phone.close();

  await page.goto(base + "/scenarios", { waitUntil: "domcontentloaded" });
  await expectSoon(page, "the list shows scenario 5 done", () => [...document.querySelectorAll(".scenario-item")].some((li) => li.dataset.id === "05-broken-release" && li.textContent.includes("done")));

  console.log("ok: the student followed scenario 5 to the end in the browser, checks turned green, progress survived a reload, reset step replayed, the console streamed a watch, completed and edited, the page fits a phone, and the folder was followed live");
  await browser.close();
} catch (e) {
  await fail(e.stack || String(e));
}
