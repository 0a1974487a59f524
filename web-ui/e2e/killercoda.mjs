// A Killercoda scenario folder played in a real browser: the intro, a step's text with its
// {{exec}} annotations gone, the Check button running the step's verify.sh (with the real
// kubectl, against this scenario's cluster) failing before the student acts and passing
// after, and the next step.
// usage: node killercoda.mjs http://127.0.0.1:PORT   (the server serves scenarios/killercoda)
import { launch, expectations, checksPanel, typeKubectl } from "./harness.mjs";

const [base] = process.argv.slice(2);
if (!base) {
  console.error("usage: node killercoda.mjs BASE_URL");
  process.exit(2);
}
const browser = await launch();
const { fail, expectSoon } = expectations(browser, 30000, checksPanel);
const verifyState = () => document.querySelector("#checks .check.verify .name")?.textContent || "";

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (e) => console.error("page error: " + e.message));
  await page.goto(base + "/scenarios/deploy-and-scale", { waitUntil: "domcontentloaded" });
  // Starting runs the folder's background.sh: a POST (the Start button), never the GET.
  await page.click("form[action$='/start'] button");
  await expectSoon(page, "the intro is shown above step 1", () => document.querySelector(".step-text.intro")?.textContent.includes("two-node cluster"));
  const text = await page.textContent(".step-panel");
  if (text.includes("{{")) await fail("Killercoda's annotations are still in the text: " + text);

  // Check before acting: verify.sh fails.
  await page.click("#checks form.verify-form button");
  await expectSoon(page, "Check runs verify.sh, which fails before the student acts", () =>
    (document.querySelector("#checks .check.verify .name")?.textContent || "").includes("failed"));
  if (await page.$("#checks form.next button")) await fail("next step offered before verify passed");

  // The student creates the Deployment in the page's console, then checks again.
  await typeKubectl(page, expectSoon, "kubectl create deployment web --image=nginx:1.27", "deployment.apps/web created");
  await page.click("#checks form.verify-form button");
  await expectSoon(page, "verify.sh passes once the Deployment exists", () =>
    (document.querySelector("#checks .check.verify .name")?.textContent || "").includes("passed"));
  await page.click("#checks form.next button");
  await expectSoon(page, "step 2 is shown", () => document.querySelector(".step-panel h2").textContent.includes("Step 2 of 3"));
  const state = await page.evaluate(verifyState);
  if (!state.includes("not run yet")) await fail("step 2's verify should start fresh: " + state);

  console.log("ok: the browser played a Killercoda scenario: intro, Check failing then passing with the real kubectl, next step");
  await browser.close();
} catch (e) {
  await fail(e.stack || String(e));
}
