// One account, two organizations: Beta invites Northwind's Owner, whose link never asks for a new
// password. They sign in with their own and join Beta, and Beta's Outbox never shows the link.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const path = require('path');
const { open, expectAccessible, mailTo, nextMail, OWNER_EMAIL, OWNER_PASSWORD } = require('./helpers');

const ROOT = path.join(__dirname, '..', '..');
const BETA_OWNER = 'owner@beta.test';
const BETA_PASSWORD = 'beta owner passphrase';

/** `onboard owner create` against the test server's database; returns the printed link's path. */
function createBetaOwner() {
  const out = execFileSync('./target/release/onboard', ['owner', 'create', '--email', BETA_OWNER, '--org', 'Beta'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: 'sqlite://target/e2e/onboard.db', ONBOARD_PUBLIC_URL: 'http://127.0.0.1:3100' },
  }).toString();
  return out.match(/http:\/\/127\.0\.0\.1:3100(\/set-password\/[A-Za-z0-9_-]+)/)[1];
}

test('an existing account joins another organization by signing in, not by registering', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one organization named Beta per run');
  test.setTimeout(120_000);

  // Beta's Owner sets a password and invites Northwind's Owner.
  const beta = await (await browser.newContext()).newPage();
  await open(beta, createBetaOwner());
  await beta.getByLabel('New password').fill(BETA_PASSWORD);
  await beta.getByLabel('Repeat the password').fill(BETA_PASSWORD);
  await beta.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(beta.getByRole('heading', { level: 1, name: /Welcome/ })).toBeVisible();
  await open(beta, '/users/invite');
  const seen = (await mailTo(OWNER_EMAIL)).length;
  await beta.getByLabel('Email addresses').fill(OWNER_EMAIL);
  await beta.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(beta.getByRole('heading', { name: /invitation emails? sent/ })).toBeVisible({ timeout: 20_000 });
  const link = (await nextMail(OWNER_EMAIL, seen)).match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];

  // Beta's Outbox shows the invitation, never its link.
  await open(beta, '/outbox');
  const body = beta.locator('pre.mail-body').first();
  await expect(body).toContainText('/register/••••');
  await expect(body).not.toContainText(link);

  // The link asks Northwind's Owner to sign in, not to register.
  const owner = await (await browser.newContext()).newPage();
  await open(owner, link);
  await expect(owner.getByRole('heading', { name: 'Join Beta' })).toBeVisible();
  await expect(owner.getByText('You already have an Onboard account: sign in to join Beta.')).toBeVisible();
  await expect(owner.getByLabel('Password')).toHaveCount(0);
  await expectAccessible(owner);
  await owner.getByRole('link', { name: 'Sign in to join' }).click();
  await owner.waitForSelector('body[data-hydrated="true"]');
  const codes = (await mailTo(OWNER_EMAIL)).length;
  await owner.getByLabel('Email address').fill(OWNER_EMAIL);
  await owner.getByLabel('Password').fill(OWNER_PASSWORD);
  await owner.getByRole('button', { name: 'Sign in' }).click();
  const join = owner.getByRole('button', { name: 'Join Beta' });
  const codeStep = owner.getByRole('heading', { level: 1, name: 'Enter your code' });
  await expect(join.or(codeStep)).toBeVisible();
  if (await codeStep.isVisible()) {
    const mail = await nextMail(OWNER_EMAIL, codes);
    await owner.getByLabel('Code', { exact: true }).fill(mail.match(/Your Onboard code for [a-z ]+ is (\d{6})/)[1]);
    await owner.getByRole('button', { name: 'Verify and sign in' }).click();
  }

  // Back on the link, signed in with their own password: join.
  await expect(join).toBeVisible();
  await expectAccessible(owner);
  await join.click();
  await expect(owner.getByRole('heading', { level: 1, name: /Welcome/ })).toBeVisible();
  await expect(owner.locator('#org-switch-select option:checked')).toHaveText('Beta');
});
