// The advisor page in a real browser (Debian's Chromium, driven by playwright-core): signs in,
// opens the mission view, follows an organisation, dismisses a recommendation and waits until
// the page no longer shows it; checks that a browser without a session sees no data. Saves a
// screenshot of each step into SHOTS. Prints one JSON line; exits non-zero on any failure.
//   node advisor.mjs BASE_URL SHOTS_DIR NAME PASSWORD MISSION
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, shots, name, password, mission] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const fail = async (why) => { console.error(why); await browser.close(); process.exit(1); };
try {
  const page = await (await browser.newContext()).newPage();
  // Anonymous: the sign-in form, nothing else.
  await page.goto(`${base}/advisor`);
  if (!page.url().endsWith("/advisor/login")) await fail(`anonymous /advisor not sent to sign in: ${page.url()}`);
  await page.screenshot({ path: `${shots}/1-sign-in.png`, fullPage: true });
  // Keyboard only: the fields are labelled and reachable.
  await page.getByLabel("Namn").fill(name);
  await page.getByLabel("Lösenord").fill(password);
  await page.getByLabel("Lösenord").press("Enter");
  await page.waitForURL(`${base}/advisor`);
  if ((await page.locator("h1").innerText()) !== "Översikt") await fail("no overview after sign-in");
  await page.screenshot({ path: `${shots}/2-overview.png`, fullPage: true });
  // The mission view: organisations that fit, with the reasons.
  await page.click(`a[href="/advisor/target/mission/${mission}"]`);
  await page.waitForURL(`**/advisor/target/mission/${mission}`);
  const orgLinks = page.locator("main table a[href^='/advisor/org/']");
  if ((await orgLinks.count()) < 1) await fail("the mission view lists no organisation");
  await page.screenshot({ path: `${shots}/3-mission.png`, fullPage: true });
  // An organisation, and one of its recommendations dismissed.
  await orgLinks.first().click();
  await page.waitForURL("**/advisor/org/**");
  const orgUrl = page.url().split("?")[0];
  const rows = page.locator("tr[data-recommendation]");
  const before = await rows.count();
  if (before < 1) await fail("the organisation has no recommendation to dismiss");
  await page.screenshot({ path: `${shots}/4-organisation.png`, fullPage: true });
  const row = rows.first();
  const dismissed = await row.getAttribute("data-recommendation");
  await row.getByRole("button").click();
  await page.waitForURL("**?sent=1");
  let gone = false;
  for (let i = 0; i < 60 && !gone; i++) {
    await page.goto(orgUrl);
    gone = (await page.locator(`tr[data-recommendation="${dismissed}"]`).count()) === 0;
    if (!gone) await page.waitForTimeout(500);
  }
  if (!gone) await fail(`recommendation ${dismissed} still shown 30 s after it was dismissed`);
  await page.screenshot({ path: `${shots}/5-dismissed.png`, fullPage: true });
  // English, on request.
  await page.goto(`${orgUrl}?lang=en`);
  if (!(await page.locator("nav").innerText()).includes("Overview")) await fail("no English");
  // Another browser without a session gets the sign-in form, not the organisation.
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(orgUrl);
  if (!stranger.url().endsWith("/advisor/login")) await fail("an anonymous browser reached an organisation page");
  if ((await stranger.content()).includes(dismissed)) await fail("the sign-in page shows data");
  console.log(JSON.stringify({ ok: true, dismissed, before, after: await page.locator("tr[data-recommendation]").count() }));
} catch (e) {
  await fail(String(e.stack || e));
}
await browser.close();
