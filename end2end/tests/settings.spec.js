const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn } = require('./helpers');

test('the owner changes organization settings', async ({ page }, testInfo) => {
  const tag = testInfo.project.name;
  await signIn(page);
  await open(page, '/settings');
  await expect(page.getByRole('heading', { level: 1, name: 'Organization settings' })).toBeVisible();
  await expectAccessible(page);

  // A bad lifetime is refused next to its field, and nothing else is lost.
  const days = page.getByLabel('Invitation links stay valid for (days)');
  await days.fill('0');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.locator('#invite-days-error')).toHaveText(/from 1 to 90/);
  await expect(page.getByLabel('Organization name')).toHaveValue('Northwind');

  await days.fill('10');
  await page.getByLabel('Require two-factor authentication for every member').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.getByLabel('Invitation links stay valid for (days)')).toHaveValue('10');
  // Back to optional, so the other tests sign in with a password alone.
  await page.getByLabel('Require two-factor authentication for every member').uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByLabel('Require two-factor authentication for every member')).not.toBeChecked();

  // Service areas.
  await page.getByLabel('New service area').fill(`Field team ${tag}`);
  await page.getByRole('button', { name: 'Add service area' }).click();
  await expect(page.getByRole('button', { name: `Delete service area Field team ${tag}` })).toBeVisible();
  await page.getByRole('button', { name: `Delete service area Field team ${tag}` }).click();
  await expect(page.getByRole('button', { name: `Delete service area Field team ${tag}` })).toHaveCount(0);

  // Roles: give Managers access reviews, then take it back.
  const review = page.getByRole('checkbox', { name: 'Manager: Review access requests' });
  await review.check();
  await expect(page.getByText('Manager granted access.review').first()).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Manager: Review access requests' })).toBeChecked();
  await page.getByRole('checkbox', { name: 'Manager: Review access requests' }).uncheck();
  await expect(page.getByText('Manager revoked access.review').first()).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Owner: Organization settings' })).toBeDisabled();

  // EULA: publishing adds a version.
  const publish = page.getByRole('button', { name: /Publish version \d+/ });
  const label = await publish.textContent();
  const next = Number(label.match(/\d+/)[0]);
  await page.getByLabel(`Text of version ${next}`).fill(`Terms for ${tag}: be kind.`);
  await publish.click();
  await expect(page.getByText(`Version ${next} is current`)).toBeVisible();
  await expectAccessible(page);
});

test('the outbox shows what was sent, including a test email', async ({ page }) => {
  await signIn(page);
  await open(page, '/outbox');
  await expect(page.getByRole('heading', { level: 1, name: 'Outbox' })).toBeVisible();
  await page.getByRole('button', { name: 'Send me a test email' }).click();
  await expect(page.getByText('Test email from Onboard for Northwind').first()).toBeVisible();
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(page.getByText('Delivered').first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await page.getByText('Test email from Onboard for Northwind').first().click();
  await expect(page.getByText('If you can read it, email delivery works.').first()).toBeVisible();
  await expectAccessible(page);
});
