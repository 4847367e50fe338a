// The pages an invitee opens on a phone arrive small, compressed and cached (issue 12): what the
// browser receives is counted through the DevTools protocol, as Lighthouse counts it.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const path = require('path');
const { open, signIn, goTo, mailTo, nextMail } = require('./helpers');

const ROOT = path.join(__dirname, '..', '..');
const FIRST_VISIT_BUDGET_BYTES = 350_000;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Records every response of the page: URL, headers, bytes on the wire and whether a cache served it. */
async function recordTransfers(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const byId = new Map();
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    // A cache hit may be announced before or after its response.
    const served = byId.get(requestId)?.cached || response.fromDiskCache || response.fromMemoryCache;
    byId.set(requestId, {
      url: response.url,
      headers: Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v])),
      cached: served,
      bytes: 0,
    });
  });
  cdp.on('Network.requestServedFromCache', ({ requestId }) => {
    byId.set(requestId, { ...(byId.get(requestId) || {}), cached: true });
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const entry = byId.get(requestId);
    if (entry) entry.bytes = encodedDataLength;
  });
  return {
    take() {
      const all = [...byId.values()].filter((r) => r.url && !r.url.startsWith('data:'));
      byId.clear();
      return all;
    },
  };
}

/** Opens `path` twice in a fresh browser: the first visit within budget, the second from cache. */
async function expectSmallAndCached(browser, path, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const transfers = await recordTransfers(page);

  await open(page, path);
  await page.waitForLoadState('networkidle');
  const first = transfers.take();
  const total = first.reduce((sum, r) => sum + r.bytes, 0);
  expect(total, `${name}: bytes on a first visit\n${first.map((r) => `${r.bytes}\t${r.url}`).join('\n')}`)
    .toBeLessThanOrEqual(FIRST_VISIT_BUDGET_BYTES);

  const html = first.find((r) => r.headers['content-type']?.startsWith('text/html'));
  expect(html.headers['content-encoding'], `${name}: the page itself is compressed`).toBe('br');
  expect(html.headers['cache-control']).toBe('no-store');
  const assets = first.filter((r) => new URL(r.url).pathname.startsWith('/pkg/'));
  expect(assets.length, `${name}: loads its code from /pkg`).toBeGreaterThan(3);
  for (const asset of assets) {
    expect(asset.headers['content-encoding'], `${asset.url} is precompressed`).toBe('br');
    expect(asset.headers['cache-control'], `${asset.url} is cached for good`).toBe(IMMUTABLE);
  }

  // A second visit downloads the page again, and nothing else.
  await open(page, path);
  await page.waitForLoadState('networkidle');
  const again = transfers.take().filter((r) => new URL(r.url).pathname.startsWith('/pkg/'));
  const downloaded = again.filter((r) => !r.cached && r.bytes > 0);
  expect(downloaded.map((r) => `${r.bytes}\t${r.url}`), `${name}: downloaded again`).toEqual([]);
  await context.close();
}

test('the phone pages load within 350 KB, compressed, and come from the cache the second time', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'measured once, as a phone');
  test.setTimeout(120_000);

  await expectSmallAndCached(browser, '/sign-in', 'sign-in');

  // A set-password link, from the command line an operator would use.
  const out = execFileSync('./target/release/onboard', ['owner', 'create', '--email', 'owner@yonder.test', '--org', 'Yonder'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: 'sqlite://target/e2e/onboard.db', ONBOARD_PUBLIC_URL: 'http://127.0.0.1:3100' },
  }).toString();
  const setPassword = out.match(/http:\/\/127\.0\.0\.1:3100(\/set-password\/[A-Za-z0-9_-]+)/)[1];
  await expectSmallAndCached(browser, setPassword, 'set-password');

  // An invitation link, as an invitee receives it.
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin);
  await open(admin, '/users/invite');
  const invitee = 'phone.visitor@northwind.test';
  const seen = (await mailTo(invitee)).length;
  await admin.getByLabel('Email addresses').fill(invitee);
  await admin.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(admin.getByRole('heading', { name: /invitation emails? sent/ })).toBeVisible({ timeout: 20_000 });
  const link = (await nextMail(invitee, seen)).match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];
  await expectSmallAndCached(browser, link, 'register');
});

test('moving between pages fetches each page\'s own code, without reloading the page', async ({ page }) => {
  await signIn(page);
  await page.evaluate(() => {
    window.sameDocument = true;
  });
  const pages = [
    ['Tools', 'Onboarding', 'Onboarding'],
    ['Settings', 'Outbox', 'Outbox'],
    ['Access management', 'Users', 'Users'],
  ];
  for (const [menu, link, heading] of pages) {
    const chunk = page.waitForResponse((r) => /\/pkg\/.*\.wasm$/.test(new URL(r.url()).pathname));
    await goTo(page, menu, link);
    await expect(page.getByRole('heading', { level: 1, name: heading, exact: true })).toBeVisible();
    await chunk;
  }
  expect(await page.evaluate(() => window.sameDocument)).toBe(true);
  // The page that arrived last is live: its filter form answers.
  await page.getByLabel('Search').fill('owner@northwind.test');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/q=owner%40northwind\.test/);
  await expect(page.getByRole('cell', { name: 'owner@northwind.test' })).toBeVisible();
  expect(await page.evaluate(() => window.sameDocument)).toBe(true);
});
