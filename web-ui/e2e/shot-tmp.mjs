import { launch } from "/work/main/web-ui/e2e/harness.mjs";
const [url, out, w, h, full, click, wait] = process.argv.slice(2);
const b = await launch();
const p = await b.newPage({ viewport: { width: +w, height: +h } });
await p.goto(url, { waitUntil: "domcontentloaded" });
await p.waitForTimeout(1500);
if (click) { await p.click(click); await p.waitForTimeout(+wait || 2000); }
await p.screenshot({ path: out, fullPage: full === "full" });
console.log(await p.evaluate(() => JSON.stringify({h: document.documentElement.scrollHeight, pods: Math.max(...[...document.querySelectorAll(".pod")].map(e => e.getBoundingClientRect().bottom))})));
await b.close();
