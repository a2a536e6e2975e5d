// browser_check.mjs - the web page of a running `muster serve --http`, in
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
//
//   node browser_check.mjs BASE_URL SPEC_JSON
//
// SPEC_JSON: {"titles": [...], "hostile": "...", "groups": [...], "group":
// {"key": "...", "name": "..."}}: the event titles the calendar must show
// (of two allied groups; the first is confirmed and has a page of its own),
// a title made of markup that must show as text, the group names
// /alliances shows, and a group whose page is checked.
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
  // The script ran: times are in the reader's zone (Auckland), not UTC,
  // with their weekday, and the zone is named.
  const first = page.locator('li.event .when time[data-local]').first();
  const shown = await first.innerText();
  const wd = await first.evaluate((t) =>
    new Date(t.getAttribute('datetime')).toLocaleDateString(undefined, { weekday: 'short' }));
  check(!shown.endsWith('UTC') && shown.startsWith(wd + ' '),
    'times are shown in the reader\'s zone with the weekday (' + wd + '): ' + shown);
  const zones = await page.locator('li.event .when .zone').allInnerTexts();
  check(zones.length >= 1 && zones.every((z) => z === 'Pacific/Auckland'),
    'the reader\'s zone is named: ' + JSON.stringify(zones));
  check(await page.locator('.status.confirmed').count() === 0, 'no CONFIRMED badge');
  check(await page.locator('li.event.cancelled .status.cancelled').count() >= 1,
    'a cancelled event has its badge');
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
  const evText = await page.locator('main').innerText();
  check(!/Revision|As JSON|confirmed/i.test(evText),
    'the event page shows no revision, JSON link or CONFIRMED badge');
  const json = page.locator('details.record a[href^="/api/events/"]');
  check(await json.count() === 1, 'the JSON link is in the closed Record part');
  await page.locator('details.record summary').click();
  check(await json.isVisible(), 'opening Record shows the JSON link');
  const evPath = new URL(page.url()).pathname;
  const ics = page.locator('a.ics');
  check(await ics.innerText() === 'Add to my calendar' &&
    await ics.getAttribute('href') === evPath + '/calendar.ics', 'an "Add to my calendar" link');
  const one = await page.request.get(base + evPath + '/calendar.ics');
  const oneText = await one.text();
  check(one.status() === 200 && one.headers()['content-type'].startsWith('text/calendar') &&
    (oneText.match(/BEGIN:VEVENT/g) || []).length === 1, 'it is a calendar of that one event');
  check(await page.locator('a.share').getAttribute('href') === base + evPath,
    'a share link to the page itself');
  check((await page.locator('.when .zone').innerText()) === 'Pacific/Auckland',
    'the event page names the reader\'s zone');

  // A group's page: its name first, its key after what it says of itself.
  await page.goto(base + '/groups/' + spec.group.key, { waitUntil: 'load' });
  check((await page.locator('h1').innerText()) === spec.group.name, 'the group page\'s title is its name');
  const gText = await page.locator('article.group').innerText();
  check(gText.indexOf(spec.group.key) > gText.indexOf('Last seen'),
    'the group\'s key comes after its name and profile');

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
  // The long links (a group's feed, an event's share link) wrap inside the
  // screen, by a rule every engine knows (overflow-wrap:anywhere is not
  // known to Safari before 15.4).
  const evHref = await p2.locator('a.title', { hasText: spec.titles[0] }).first().getAttribute('href');
  for (const path of ['/groups/' + spec.group.key, evHref]) {
    await p2.goto(base + path, { waitUntil: 'load' });
    const links = await p2.locator('.subscribe a.feed, a.share').evaluateAll((as) => as.map((a) => ({
      right: a.getBoundingClientRect().right, text: a.textContent.length,
      wb: getComputedStyle(a).wordBreak,
    })));
    const pw = await p2.evaluate(() => document.documentElement.scrollWidth);
    check(links.length === 1 && links[0].text > 60 && links[0].right <= 360 &&
      links[0].wb === 'break-all' && pw <= 360,
      'the long link of ' + path.split('/')[1] + ' wraps on the phone: ' + JSON.stringify(links) + ', page ' + pw + ' px');
  }
  check(perrors.length === 0, 'no console errors on the phone: ' + JSON.stringify(perrors));

  // --- without JavaScript -------------------------------------------------
  const nojs = await browser.newContext({ javaScriptEnabled: false });
  const p3 = await nojs.newPage();
  await p3.goto(base + '/', { waitUntil: 'load' });
  const plain = await p3.locator('main').innerText();
  for (const t of spec.titles) check(plain.includes(t), 'without JavaScript the calendar shows "' + t + '"');
  check(/UTC/.test(plain), 'without JavaScript times are shown in UTC');
  check(/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d\b/.test(plain),
    'without JavaScript times have their weekday');
} catch (e) {
  if (!process.exitCode) {
    console.error('FAIL: ' + e.message);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
