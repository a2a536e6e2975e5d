// browser_post.mjs - replies to an event through its page's form in headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core), as a
// person would: opens the page, fills the form, sends it, and follows to the
// receipt.
//
//   node browser_post.mjs EVENT_PAGE_URL SPEC_JSON
//
// SPEC_JSON: {"javascript": true|false, "name": "...", "contact": "...",
// "party": N}. Prints one JSON line, {"receipt": PATH, "status": TEXT}, and
// exits 1 on any failure (a missing browser or playwright-core included).

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error('FAIL: playwright-core is not installed (make test-deps): ' + e.message);
  process.exit(1);
}

const [url, specText] = process.argv.slice(2);
if (!url || !specText) {
  console.error('usage: node browser_post.mjs EVENT_PAGE_URL SPEC_JSON');
  process.exit(2);
}
const spec = JSON.parse(specText);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  headless: true,
});
try {
  const ctx = await browser.newContext({ javaScriptEnabled: spec.javascript });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push('exception: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push('console: ' + m.text());
  });
  await page.goto(url);
  await page.fill('input[name="name"]', spec.name);
  await page.fill('input[name="contact"]', spec.contact);
  await page.fill('input[name="party"]', String(spec.party));
  await page.check('input[name="going"][value="yes"]');
  await Promise.all([page.waitForNavigation(), page.click('form button[type="submit"]')]);
  const status = (await page.textContent('p.status')) || '';
  const feed = await page.getAttribute('a.ics', 'href');
  if (!feed) throw new Error('no receipt feed link on ' + page.url());
  if (errors.length > 0) throw new Error(errors.join('; '));
  console.log(JSON.stringify({ receipt: feed.replace(/\/calendar\.ics$/, ''), status }));
} catch (e) {
  console.error('FAIL: ' + e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
