// The Owner created on first run sets a password from the one-time link the server printed.
const { test, expect } = require('@playwright/test');
const fs = require('fs');
const path = require('path');
const { open, expectAccessible, OWNER_EMAIL, OWNER_PASSWORD } = require('./helpers');

const LOG = path.join(__dirname, '..', '..', 'target', 'e2e', 'server.log');

function firstRunLink() {
  const log = fs.readFileSync(LOG, 'utf8');
  const match = log.match(/http:\/\/127\.0\.0\.1:3100(\/set-password\/[A-Za-z0-9_-]+)/);
  if (!match) throw new Error(`no first-run link in ${LOG}`);
  return match[1];
}

test('the first owner sets a password from the printed link and is signed in', async ({ page }) => {
  const link = firstRunLink();
  await open(page, link);
  await expect(page.getByRole('heading', { name: 'Set your password' })).toBeVisible();
  await expect(page.getByLabel('Email address')).toHaveValue(OWNER_EMAIL);
  await expectAccessible(page);

  await page.getByLabel('New password').fill('short');
  await expect(page.getByText('Use at least 12 characters.')).toBeVisible();
  await page.getByLabel('New password').fill(OWNER_PASSWORD);
  await expect(page.getByText('Strong enough.')).toBeVisible();
  await page.getByLabel('Repeat the password').fill(OWNER_PASSWORD);
  await page.getByRole('button', { name: 'Set password and sign in' }).click();

  await expect(page.getByRole('heading', { level: 1, name: /Welcome/ })).toBeVisible();
  await expect(page.getByRole('main').getByText('Northwind', { exact: true })).toBeVisible();
  await expectAccessible(page);

  // The link works once.
  await open(page, link);
  await expect(page.getByRole('heading', { name: 'This link cannot be used' })).toBeVisible();
  await expect(page.getByText(/already used/)).toBeVisible();
  await expectAccessible(page);
});
