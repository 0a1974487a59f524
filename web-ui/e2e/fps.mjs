// Frames per second of the live page while the cluster changes: node fps.mjs BASE_URL
// Prints one JSON line: {"fps":…, "updates":…, "seconds":…, "long":…, "worst":…}: frames per
// second, DOM updates of the cluster panel, frames that took longer than 20 ms, the longest.
import { launch } from "./harness.mjs";

const base = process.argv[2];
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(base + "/", { waitUntil: "domcontentloaded" });
await page.waitForSelector("#cluster .pod, #cluster canvas", { timeout: 60000 });
await page.click("form[action='/control/play?speed=30'] button");
const seconds = 5;
const result = await page.evaluate((seconds) => new Promise((resolve) => {
  let frames = 0;
  let updates = 0;
  let long = 0;
  let worst = 0;
  // Keep pods changing: restart another Deployment every half second.
  let i = 0;
  const restart = setInterval(() => {
    const body = new URLSearchParams({ cmd: "rollout restart deployment/app-" + String(i++ % 10).padStart(4, "0") + " -n big" });
    fetch("/kubectl", { method: "POST", body, headers: { Accept: "application/json" } });
  }, 500);
  const obs = new MutationObserver(() => { updates++; });
  obs.observe(document.getElementById("cluster"), { childList: true, subtree: true });
  const start = performance.now();
  let last = start;
  function tick(now) {
    frames++;
    if (now - last > 20) long++;
    worst = Math.max(worst, now - last);
    last = now;
    if (now - start < seconds * 1000) requestAnimationFrame(tick);
    else { clearInterval(restart); obs.disconnect(); resolve({ fps: frames / ((now - start) / 1000), updates, seconds, long, worst: Math.round(worst) }); }
  }
  requestAnimationFrame(tick);
}), seconds);
console.log(JSON.stringify(result));
await browser.close();
