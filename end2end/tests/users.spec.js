const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, goTo, OWNER_EMAIL } = require('./helpers');

test('the owner finds members in the users list', async ({ page }) => {
  await signIn(page);
  await goTo(page, 'Access management', 'Users');
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  // The caller's own row is marked "You" and offers no actions.
  const row = page.getByRole('row').filter({ has: page.getByText('You', { exact: true }) });
  await expect(row.getByRole('cell', { name: OWNER_EMAIL, exact: true })).toBeVisible();
  await expect(row.getByText('Active')).toBeVisible();
  await expectAccessible(page);

  await page.getByLabel('Search').fill('nobody-at-all');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/q=nobody-at-all/);
  await expect(page.getByText('No members match.')).toBeVisible();
  await expectAccessible(page);

  // The filter lives in the address: reloading keeps it.
  await open(page, page.url().replace(/^https?:\/\/[^/]+/, ''));
  await expect(page.getByLabel('Search')).toHaveValue('nobody-at-all');
});
