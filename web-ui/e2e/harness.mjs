// What every browser script shares: Debian's chromium, headless, set up the same way, and
// failures reported as the expectation a user would notice, then exit 1.
import { chromium } from "playwright-core";

/** Starts chromium ($CHROMIUM, else /usr/bin/chromium) with no network extras. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * fail(msg) and expectSoon(page, what, fn, arg, timeout) for one browser. `describe(page)`,
 * if given, adds what the page shows to a failed expectation (the scenario's checks panel).
 */
export function expectations(browser, defaultTimeout, describe) {
  const fail = async (msg) => {
    console.error("FAIL: " + msg);
    await browser.close();
    process.exit(1);
  };
  const expectSoon = async (page, what, fn, arg, timeout = defaultTimeout) => {
    try {
      await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    } catch (e) {
      const extra = describe ? await describe(page).catch(() => "") : "";
      await fail(what + " (" + e.message.split("\n")[0] + ")" + extra);
    }
  };
  return { fail, expectSoon };
}

/** The scenario page's checks panel, for a failed expectation. */
export async function checksPanel(page) {
  const checks = await page.evaluate(() => document.getElementById("checks")?.textContent || "");
  return checks ? "\nchecks panel: " + checks.replace(/\s+/g, " ") : "";
}

/** Types a command into a page's kubectl console and waits for its output. */
export async function typeKubectl(page, expectSoon, cmd, expect) {
  await page.fill("#cmd", cmd);
  await page.click("#console-form button");
  await expectSoon(page, "kubectl " + cmd + " prints " + expect, (want) => document.getElementById("console-out").textContent.includes(want), expect);
}

/**
 * For page.evaluate before a screenshot: scrolls to the top and waits two frames, so tiles
 * that were off screen (content-visibility: auto) are drawn again before the picture.
 */
export function toTop() {
  window.scrollTo(0, 0);
  return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
}

/**
 * For page.evaluate: what a student would see as broken in the layout at this window size:
 * the page wider than the window, two panels (or the header and a panel) overlapping, an
 * element sticking out of its panel, or text cut off by a box that hides its overflow.
 * Returns one line per problem (empty when the layout holds).
 */
export function layoutProblems() {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) problems.push("the page is wider than the window: " + document.documentElement.scrollWidth + " > " + vw);
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "");
  const boxes = [...document.querySelectorAll("header.top, main > .panel, main > .col > .panel")].filter((e) => e.offsetParent !== null || e.matches("header.top"));
  const rects = boxes.map((e) => e.getBoundingClientRect());
  for (let i = 0; i < boxes.length; i++) {
    const a = rects[i];
    if (a.left < -1 || a.right > vw + 1) problems.push(name(boxes[i]) + " leaves the window: " + Math.round(a.left) + ".." + Math.round(a.right));
    for (let j = i + 1; j < boxes.length; j++) {
      const b = rects[j];
      // The sticky header may cover panels once the page is scrolled: compare at the top.
      if (boxes[i].matches("header.top") && window.scrollY > 0) continue;
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
      if (overlap) problems.push(name(boxes[i]) + " overlaps " + name(boxes[j]));
    }
    for (const el of boxes[i].querySelectorAll("*")) {
      if (el.offsetParent === null || el.closest("details:not([open]) > :not(summary)") || el.closest("[hidden]")) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      // An element inside a box that scrolls is seen by scrolling, not cut.
      const scroller = el.parentElement.closest("pre, textarea, #deployments, #events, #console-out, #cluster, table, svg");
      if (!scroller || scroller === boxes[i]) {
        if (r.left < a.left - 1 || r.right > a.right + 1) problems.push(name(el) + " sticks out of " + name(boxes[i]) + ": " + Math.round(r.left) + ".." + Math.round(r.right) + " in " + Math.round(a.left) + ".." + Math.round(a.right));
      }
      const st = getComputedStyle(el);
      const hides = (st.overflowX === "hidden" || st.overflowX === "clip") && st.textOverflow !== "ellipsis";
      if (hides && el.scrollWidth > el.clientWidth + 1 && !el.matches(".gutter, .panel")) problems.push(name(el) + " cuts its text: " + el.scrollWidth + " > " + el.clientWidth);
    }
  }
  return problems.slice(0, 20);
}
