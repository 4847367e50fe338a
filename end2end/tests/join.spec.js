// One account, two organizations: Zeta invites Northwind's Owner, whose link never asks for a new
// password. They sign in with their own and join Zeta, and Zeta's Outbox never shows the link.
// (Zeta sorts after Northwind, so the other tests still sign the Owner in to Northwind.)
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const path = require('path');
const { open, expectAccessible, mailTo, nextMail, submitSignIn, OWNER_EMAIL, OWNER_PASSWORD } = require('./helpers');

const ROOT = path.join(__dirname, '..', '..');
const ZETA_OWNER = 'owner@zeta.test';
const ZETA_PASSWORD = 'zeta owner passphrase';

/** `onboard owner create` against the test server's database; returns the printed link's path. */
function createZetaOwner() {
  const out = execFileSync('./target/release/onboard', ['owner', 'create', '--email', ZETA_OWNER, '--org', 'Zeta'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: 'sqlite://target/e2e/onboard.db', ONBOARD_PUBLIC_URL: 'http://127.0.0.1:3100' },
  }).toString();
  return out.match(/http:\/\/127\.0\.0\.1:3100(\/set-password\/[A-Za-z0-9_-]+)/)[1];
}

test('an existing account joins another organization by signing in, not by registering', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one organization named Zeta per run');
  test.setTimeout(120_000);

  // Zeta's Owner sets a password and invites Northwind's Owner.
  const zeta = await (await browser.newContext()).newPage();
  await open(zeta, createZetaOwner());
  await zeta.getByLabel('New password').fill(ZETA_PASSWORD);
  await zeta.getByLabel('Repeat the password').fill(ZETA_PASSWORD);
  await zeta.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(zeta.getByRole('heading', { level: 1, name: /Welcome/ })).toBeVisible();
  await open(zeta, '/users/invite');
  const seen = (await mailTo(OWNER_EMAIL)).length;
  await zeta.getByLabel('Email addresses').fill(OWNER_EMAIL);
  await zeta.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(zeta.getByRole('heading', { name: /invitation emails? sent/ })).toBeVisible({ timeout: 20_000 });
  const link = (await nextMail(OWNER_EMAIL, seen)).match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];

  // Zeta's Outbox shows the invitation, never its link.
  await open(zeta, '/outbox');
  const body = zeta.locator('pre.mail-body').first();
  await expect(body).toContainText('/register/••••');
  await expect(body).not.toContainText(link);

  // The link asks Northwind's Owner to sign in, not to register.
  const owner = await (await browser.newContext()).newPage();
  await open(owner, link);
  await expect(owner.getByRole('heading', { name: 'Join Zeta' })).toBeVisible();
  await expect(owner.getByText('You already have an Onboard account: sign in to join Zeta.')).toBeVisible();
  await expect(owner.getByLabel('Password')).toHaveCount(0);
  await expectAccessible(owner);
  await owner.getByRole('link', { name: 'Sign in to join' }).click();
  await owner.waitForSelector('body[data-hydrated="true"]');
  const join = owner.getByRole('button', { name: 'Join Zeta' });
  await submitSignIn(owner, OWNER_EMAIL, OWNER_PASSWORD, join);

  // Back on the link, signed in with their own password: join.
  await expectAccessible(owner);
  await join.click();
  await expect(owner.getByRole('heading', { level: 1, name: /Welcome/ })).toBeVisible();
  await expect(owner.locator('#org-switch-select option:checked')).toHaveText('Zeta');
});
