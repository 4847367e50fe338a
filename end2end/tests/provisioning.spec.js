// Settings › Provisioning as an admin connects an identity provider: a bad name is refused
// beside its field, the token is shown once with the SCIM base URL, a SCIM client using it
// creates a user who appears on the Users list as Pending, and the card then shows it was used.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn } = require('./helpers');

test('a token made here lets a SCIM client invite someone', async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'an admin page on a desktop');
  test.setTimeout(90_000);
  await signIn(page);
  await open(page, '/settings/provisioning');
  await expect(page.getByRole('heading', { level: 1, name: 'Provisioning' })).toBeVisible();
  await page.getByRole('button', { name: 'Add token' }).click();
  const form = page.getByRole('region', { name: 'New token' });
  await form.getByLabel('Name').fill('   ');
  await form.getByRole('button', { name: 'Save token' }).click();
  await expect(form.getByText('Enter a token name.')).toBeVisible();

  await form.getByLabel('Name').fill('Entra ID');
  await form.getByLabel('Role of the people it creates').selectOption({ label: 'Member' });
  await form.getByRole('button', { name: 'Save token' }).click();
  const shown = page.getByLabel('Secret token');
  await expect(shown).toHaveValue(/^onb_scim_/);
  const token = await shown.inputValue();
  const baseUrl = await page.getByLabel('SCIM base URL (Tenant URL)').inputValue();
  expect(baseUrl).toMatch(/\/scim\/v2$/);
  await expectAccessible(page);
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await expect(shown).toBeHidden();

  const email = `scim-${Date.now()}@example.com`;
  const created = await request.post(`${baseUrl}/Users`, {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    data: {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: email,
      name: { givenName: 'Grace', familyName: 'Hopper' },
      active: true,
    },
  });
  expect(created.status()).toBe(201);
  expect((await created.json()).userName).toBe(email);

  await open(page, `/users?q=${encodeURIComponent(email)}`);
  await expect(page.getByRole('cell', { name: email, exact: true })).toBeVisible();
  await expect(page.getByRole('row', { name: new RegExp(email) }).getByText('Pending')).toBeVisible();

  // Shown once: a reload shows no token, and the card says it was used.
  await open(page, '/settings/provisioning');
  const card = page.getByRole('article', { name: 'Entra ID' });
  await expect(card.getByText(/Last used/)).toBeVisible();
  await expect(page.getByText(/onb_scim_/)).toHaveCount(0);
  await expectAccessible(page);
});
