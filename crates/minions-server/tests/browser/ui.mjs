// Drives the minions web page in headless Chromium: paste a document, ask,
// wait for the answer and the charts, check that no model text became HTML,
// and take a screenshot. Run by tests/browser.rs; prints one JSON line.
import { chromium } from "playwright-core";

const [url, screenshot, documentText] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const outcome = { errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on("pageerror", (error) => outcome.errors.push(String(error)));
  await page.goto(url);
  await page.fill("#documents", documentText);
  await page.fill("#task", "What is the launch code?");
  await page.click("#ask");
  await page.waitForSelector("#chart-cost", { timeout: 60000 });
  outcome.answer = (await page.textContent("#answer")).trim();
  outcome.bubbles = await page.locator(".bubble").count();
  outcome.jobs = await page.locator("#jobs tr").count();
  outcome.status = (await page.textContent("#status")).trim();
  outcome.stats = (await page.textContent("#stats")).trim();
  outcome.bars = await page.locator("#chart-cost .fill, #chart-time .fill").count();
  outcome.remoteText = ((await page.locator(".bubble.remote").first().textContent()) || "").trim();
  outcome.options = await page.$$eval("#protocol option", (os) => os.map((o) => o.value));
  // The menu shows its whole label: the text is narrower than the box
  // (less room for the arrow).
  outcome.menuClipped = await page.evaluate(() => {
    const select = document.getElementById("protocol");
    const canvas = document.createElement("canvas").getContext("2d");
    canvas.font = getComputedStyle(select).font;
    const widest = Math.max(...[...select.options].map((o) => canvas.measureText(o.textContent).width));
    return widest > select.clientWidth - 28;
  });
  outcome.injected = await page.evaluate(() => window.__pwned === true || document.querySelectorAll("main img, main script").length > 0);
  outcome.injectedText = await page.evaluate(() => document.body.textContent.includes("<img src=x"));
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (error) {
  outcome.errors.push(String(error));
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
