const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, openMenu, openAccountMenu } = require('./helpers');

test('a wrong password is refused with a message next to the field', async ({ page }, testInfo) => {
  await open(page, '/sign-in');
  await expectAccessible(page);
  await page.getByLabel('Email address').fill(`nobody-${testInfo.project.name}@northwind.test`);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#password-error')).toHaveText('The email address or password is incorrect.');
  // What was typed is kept.
  await expect(page.getByLabel('Email address')).toHaveValue(`nobody-${testInfo.project.name}@northwind.test`);
  await expectAccessible(page);
});

test('the owner signs in, sees the navigation, and signs out', async ({ page }) => {
  await signIn(page);
  await expect((await openMenu(page, 'Settings')).getByRole('link', { name: 'Organization' })).toBeVisible();
  await expectAccessible(page);
  await (await openAccountMenu(page)).getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  // Signed out for real: the start page sends us back to sign in.
  await open(page, '/');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('an unknown address shows a page-not-found page', async ({ page }) => {
  await open(page, '/no-such-page');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expectAccessible(page);
});
