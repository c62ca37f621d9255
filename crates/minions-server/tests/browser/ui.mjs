// Drives the minions web page in headless Chromium, as a person would: at
// desktop width, ask a Minions question (answer, charts, jobs with findings
// first, the jobs count, past runs and the savings chart), then a Minion
// question (the local reply as sentences, no jobs table), then one that is
// cancelled; at phone width, ask again and check that the answer is in view
// and the charts keep their width. Run by tests/browser.rs; prints one JSON line.
import { chromium } from "playwright-core";

const [url, screenshot, documentText, slowDocument] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const outcome = { errors: [] };
const ask = async (page, documents, task, protocol) => {
  await page.fill("#documents", documents);
  await page.fill("#task", task);
  await page.selectOption("#protocol", protocol);
  await page.click("#ask");
};
const ended = (page) => page.waitForFunction(() => {
  const s = document.getElementById("status").textContent;
  return s === "Done." || s.startsWith("The run ");
}, null, { timeout: 60000 });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => outcome.errors.push(String(error)));
  await page.goto(url);
  const longQuestion = "What is the launch code? Answer with the number only, and say which section of the routine notes states it, if any section does.";
  await ask(page, documentText, longQuestion, "minions");
  await page.waitForSelector("#chart-cost", { timeout: 60000 });
  await ended(page);
  outcome.answer = (await page.textContent("#answer")).trim();
  outcome.question = await page.inputValue("#task");
  outcome.bubbles = await page.locator(".bubble").count();
  outcome.jobs = await page.locator("#jobs tr").count();
  outcome.firstJobFound = await page.locator("#jobs tr").first().evaluate((r) => r.className === "found");
  outcome.jobsCount = (await page.textContent("#jobs-count")).trim();
  outcome.status = (await page.textContent("#status")).trim();
  outcome.stats = (await page.textContent("#stats")).trim();
  outcome.separators = await page.evaluate(() => count(18264) === "18,264");
  outcome.bars = await page.locator("#chart-cost .fill, #chart-time .fill").count();
  outcome.remoteText = (await page.locator(".bubble.remote").allTextContents()).join("\n").trim();
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
  await page.waitForSelector("#chart-savings .fill", { timeout: 10000 });
  outcome.pastRuns = await page.locator("#history tr").count();
  outcome.savingsBars = await page.locator("#chart-savings .fill").count();
  outcome.savingsText = (await page.textContent("#chart-savings")).trim();
  await page.screenshot({ path: screenshot, fullPage: true });

  // Minion: the local model's JSON reads as sentences; no jobs table.
  await ask(page, documentText, "What is the launch code?", "minion");
  await ended(page);
  outcome.minionStatus = (await page.textContent("#status")).trim();
  outcome.minionJobsHidden = await page.locator("#jobs-section").isHidden();
  outcome.minionLocalText = ((await page.locator(".bubble.local").first().textContent()) || "").trim();
  // The local model's HTML shows as text here, and runs nowhere.
  outcome.injected ||= await page.evaluate(() => window.__pwned === true || document.querySelectorAll("main img, main script").length > 0);
  outcome.injectedText ||= await page.evaluate(() => document.body.textContent.includes("<img src=x"));

  // Cancel: a run whose local model takes a minute.
  await ask(page, slowDocument, "What is the launch code?", "minions");
  await page.waitForSelector("#cancel:not([hidden])", { timeout: 10000 });
  const cancelledAt = Date.now();
  await page.click("#cancel");
  await ended(page);
  outcome.cancelSeconds = (Date.now() - cancelledAt) / 1000;
  outcome.cancelStatus = (await page.textContent("#status")).trim();
  outcome.cancelHidden = await page.locator("#cancel").isHidden();
  await page.waitForFunction(() => document.querySelectorAll("#history tr").length >= 3, null, { timeout: 10000 });
  outcome.pastRunsAfter = await page.locator("#history tr").count();
  outcome.pastOutcomes = await page.$$eval("#history tr td:last-child", (cells) => cells.map((c) => c.textContent));

  // A phone.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  phone.on("pageerror", (error) => outcome.errors.push("phone: " + String(error)));
  await phone.goto(url);
  await ask(phone, documentText, "What is the launch code?", "minions");
  await phone.waitForSelector("#chart-cost", { timeout: 60000 });
  await ended(phone);
  await phone.waitForTimeout(300);
  outcome.phoneAnswerTop = await phone.evaluate(() => document.getElementById("answer-section").getBoundingClientRect().top);
  // Against the device's width: a mobile browser widens its layout viewport to
  // fit content that overflows, so window.innerWidth would hide it.
  outcome.phoneOverflow = await phone.evaluate(() => document.documentElement.scrollWidth - 390);
  outcome.phoneTrack = await phone.evaluate(() => Math.min(...[...document.querySelectorAll("#chart-cost .track")].map((t) => t.getBoundingClientRect().width)));
  await phone.screenshot({ path: screenshot.replace(/\.png$/, "-phone.png"), fullPage: true });
} catch (error) {
  outcome.errors.push(String(error));
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
