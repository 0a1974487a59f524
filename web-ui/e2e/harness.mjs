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
