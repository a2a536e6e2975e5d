// browser_check.mjs - the web page of a running `muster serve --http`, in
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
//
//   node browser_check.mjs BASE_URL SPEC_JSON
//
// SPEC_JSON: {"titles": [...], "hostile": "...", "groups": [...]}: the
// event titles the calendar must show (of two allied groups), a title made
// of markup that must show as text, and the group names /alliances shows.
// Prints one line per check and exits 1 on the first failure; a missing
// browser or playwright-core is a failure too, never a skip.

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error('FAIL: playwright-core is not installed (make test-deps): ' + e.message);
  process.exit(1);
}

const [base, specText] = process.argv.slice(2);
if (!base || !specText) {
  console.error('usage: node browser_check.mjs BASE_URL SPEC_JSON');
  process.exit(2);
}
const spec = JSON.parse(specText);

function check(cond, what) {
  if (!cond) {
    console.error('FAIL: ' + what);
    process.exitCode = 1;
    throw new Error(what);
  }
  console.log('ok: ' + what);
}

// Every console error, failed request and uncaught exception of a page.
function watch(page, errors) {
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push('console: ' + m.text());
  });
  page.on('pageerror', (e) => errors.push('exception: ' + e.message));
  page.on('requestfailed', (r) => errors.push('request failed: ' + r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push('HTTP ' + r.status() + ': ' + r.url());
  });
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  headless: true,
});

try {
  // --- a desktop window ---------------------------------------------------
  const ctx = await browser.newContext({ timezoneId: 'Pacific/Auckland' });
  const page = await ctx.newPage();
  const errors = [];
  watch(page, errors);
  const resp = await page.goto(base + '/', { waitUntil: 'load' });
  check(resp.status() === 200, 'GET / is 200');
  check(resp.headers()['content-type'] === 'text/html; charset=utf-8', 'the page is UTF-8 HTML');
  const text = await page.locator('main').innerText();
  for (const t of spec.titles) check(text.includes(t), 'the calendar shows "' + t + '"');
  check(text.includes(spec.hostile), 'the hostile title is shown as text');
  check(await page.evaluate(() => window.__pwned === undefined), 'the hostile title did not run');
  check(await page.locator('script').count() === 1, 'the page has only its own script');
  // The script ran: times are in the reader's zone (Auckland), not UTC.
  const shown = await page.locator('li.event .when time[data-local]').first().innerText();
  check(!shown.endsWith('UTC'), 'times are shown in the reader\'s zone: ' + shown);
  check(await page.locator('section.day h2').count() >= 1, 'events are grouped by day');
  const feed = await page.locator('a.webcal').getAttribute('href');
  check(/^webcal:\/\/[^/]+\/calendar\.ics$/.test(feed), 'a webcal:// subscription link: ' + feed);
  check(await page.locator('li.event.cancelled').count() >= 1, 'a cancelled event is marked');
  const deco = await page.locator('li.event.cancelled .title').first()
    .evaluate((el) => getComputedStyle(el).textDecorationLine);
  check(deco.includes('line-through'), 'a cancelled event is struck through');

  // Its own page, from the calendar's link.
  await page.locator('a.title', { hasText: spec.titles[0] }).first().click();
  await page.waitForLoadState('load');
  check(new URL(page.url()).pathname.startsWith('/events/'), 'an event links to its page');
  check((await page.locator('h1').innerText()).includes(spec.titles[0]), 'the event page shows its title');

  // Who is allied with whom.
  await page.goto(base + '/alliances', { waitUntil: 'load' });
  const allies = await page.locator('main').innerText();
  for (const g of spec.groups) check(allies.includes(g), '/alliances names ' + g);
  check(await page.locator('li.alliance.mutual').count() >= 1, '/alliances shows a mutual alliance');
  check(errors.length === 0, 'no console errors, exceptions or failed requests: ' + JSON.stringify(errors));

  // --- a phone ------------------------------------------------------------
  const phone = await browser.newContext({
    viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  const p2 = await phone.newPage();
  const perrors = [];
  watch(p2, perrors);
  await p2.goto(base + '/', { waitUntil: 'load' });
  const width = await p2.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 360, 'no sideways scrolling on a 360 px phone (content is ' + width + ' px)');
  for (const t of spec.titles) check(await p2.locator('a.title', { hasText: t }).first().isVisible(), 'the phone shows "' + t + '"');
  check(perrors.length === 0, 'no console errors on the phone: ' + JSON.stringify(perrors));

  // --- without JavaScript -------------------------------------------------
  const nojs = await browser.newContext({ javaScriptEnabled: false });
  const p3 = await nojs.newPage();
  await p3.goto(base + '/', { waitUntil: 'load' });
  const plain = await p3.locator('main').innerText();
  for (const t of spec.titles) check(plain.includes(t), 'without JavaScript the calendar shows "' + t + '"');
  check(/UTC/.test(plain), 'without JavaScript times are shown in UTC');
} catch (e) {
  if (!process.exitCode) {
    console.error('FAIL: ' + e.message);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
