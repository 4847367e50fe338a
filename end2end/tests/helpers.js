const { expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;

const OWNER_EMAIL = 'owner@northwind.test';
const OWNER_PASSWORD = 'northwind owner passphrase';

/** Opens a page and waits until the WASM has hydrated it, so clicks are wired up. */
async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

/** Runs axe-core on the page as it is now; any violation fails the test with a readable list. */
async function expectAccessible(page) {
  const results = await new AxeBuilder({ page }).analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`,
  );
  expect(summary, `accessibility violations on ${page.url()}`).toEqual([]);
}

/** Signs in; when the organization requires a second factor, enters the emailed code. */
async function signIn(page, email = OWNER_EMAIL, password = OWNER_PASSWORD) {
  await open(page, '/sign-in');
  await submitSignIn(page, email, password, page.getByRole('heading', { level: 1, name: /Welcome/ }));
}

/**
 * Fills in the sign-in form already open on the page and submits it, entering the emailed code
 * when one is asked for, and accepting the agreement when a version everyone must accept again
 * awaits (agreement.spec.js publishes one), until `landing` (where the sign-in leads) is visible.
 */
async function submitSignIn(page, email, password, landing) {
  const seen = (await mailTo(email)).length;
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const codeStep = page.getByRole('heading', { level: 1, name: 'Enter your code' });
  const agreement = page.getByRole('heading', { level: 1, name: 'Please accept the updated agreement' });
  await expect(landing.or(codeStep).or(agreement)).toBeVisible();
  if (await codeStep.isVisible()) {
    const mail = await nextMail(email, seen);
    await page.getByLabel('Code', { exact: true }).fill(mail.match(/Your Onboard code for [a-z ]+ is (\d{6})/)[1]);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await expect(landing.or(agreement)).toBeVisible();
  }
  if (await agreement.isVisible()) {
    await page.getByLabel('I have read and accept the agreement').check();
    await page.getByRole('button', { name: 'Accept and continue' }).click();
  }
  await expect(landing).toBeVisible();
}

/** Whether the page is phone-sized, where the top bar is one menu button. */
function onPhone(page) {
  return (page.viewportSize()?.width ?? 1280) <= 640;
}

/** Opens the account menu (the initials, top right) unless it is open; returns the navigation. */
async function openAccountMenu(page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  const button = nav.getByRole('button', { name: /^Account menu/ });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  return nav;
}

/**
 * Opens a menu of the top bar as the product documents name it ('Tools', 'Settings', or the
 * account menu's 'Access management') and returns where its entries are. On a phone every menu
 * is a section of the account menu.
 */
async function openMenu(page, menu) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  if (menu === 'Access management' || onPhone(page)) {
    return (await openAccountMenu(page)).getByRole('group', { name: menu });
  }
  const button = nav.getByRole('button', { name: menu, exact: true });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  return nav;
}

/** Follows a menu entry: `goTo(page, 'Tools', 'Onboarding')` is "Tools › Onboarding". */
async function goTo(page, menu, entry) {
  await (await openMenu(page, menu)).getByRole('link', { name: entry, exact: true }).click();
}

/** Messages the SMTP sink received for an address, oldest first, with quoted-printable undone. */
async function mailTo(address) {
  const res = await fetch('http://127.0.0.1:3126/messages');
  const all = await res.json();
  return all
    .filter((m) => m.to.includes(address))
    .map((m) => m.data.replace(/=\r\n/g, '').replace(/=3D/g, '='));
}

/** Waits for the next message to `address` after `seen` earlier ones, and returns it. */
async function nextMail(address, seen) {
  let found;
  await expect(async () => {
    const mail = await mailTo(address);
    expect(mail.length).toBeGreaterThan(seen);
    found = mail[mail.length - 1];
  }).toPass({ timeout: 20_000 });
  return found;
}

/** What an authenticator app holding the base32 `key` shows, `steps` periods of 30 s from now (RFC 6238). */
function authenticatorCode(key, steps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of key.replace(/\s/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const secret = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigInt64BE(BigInt(Math.floor(Date.now() / 30_000) + steps));
  const digest = require('crypto').createHmac('sha1', secret).update(counter).digest();
  const offset = digest[19] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

module.exports = {
  open,
  expectAccessible,
  signIn,
  submitSignIn,
  onPhone,
  openAccountMenu,
  openMenu,
  goTo,
  mailTo,
  nextMail,
  authenticatorCode,
  OWNER_EMAIL,
  OWNER_PASSWORD,
};
