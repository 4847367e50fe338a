const fs = require('fs');
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, OWNER_EMAIL } = require('./helpers');

test('a version everyone must accept again comes before anything else, and its evidence downloads', async ({ page }, testInfo) => {
  const tag = testInfo.project.name;
  await signIn(page);
  await open(page, '/settings');
  const publish = page.getByRole('button', { name: /Publish version \d+/ });
  const next = Number((await publish.textContent()).match(/\d+/)[0]);
  await page.getByLabel(`Text of version ${next}`).fill(`Terms everyone accepts again (${tag}).`);
  await page.getByLabel('Everyone must accept again').check();
  await publish.click();

  // The publisher is asked first, with the menu closed until they accept.
  const asked = page.getByRole('heading', { level: 1, name: 'Please accept the updated agreement' });
  await expect(asked).toBeVisible();
  await expect(page.getByRole('region', { name: 'Agreement text' })).toHaveText(`Terms everyone accepts again (${tag}).`);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expectAccessible(page);

  // No other page opens: each leads here, and back to it once accepted.
  await open(page, '/users');
  await expect(asked).toBeVisible();
  expect(new URL(page.url()).searchParams.get('next')).toBe('/users');
  await page.getByLabel('I have read and accept the agreement').check();
  await page.getByRole('button', { name: 'Accept and continue' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();

  // Settings count the acceptance and give the evidence as CSV.
  await open(page, '/settings');
  await expect(page.getByText(`Version ${next} is current`)).toBeVisible();
  await expect(page.getByText(new RegExp(`Version ${next} · .* · accepted by \\d`))).toBeVisible();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export evidence (CSV)' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('agreement-evidence.csv');
  const csv = fs.readFileSync(await download.path(), 'utf8');
  expect(csv.split('\r\n')[0]).toBe('\uFEFFaccount,email,version,accepted_at,ip_address,user_agent');
  expect(csv).toContain(`,${OWNER_EMAIL},${next},`);
  await expectAccessible(page);

  // Who has not accepted yet: the members list, filtered; the owner has accepted.
  await open(page, `/users?q=${encodeURIComponent(OWNER_EMAIL)}&status=active`);
  await expect(page.getByText('1 shown of 1 that match')).toBeVisible();
  await open(page, `/users?q=${encodeURIComponent(OWNER_EMAIL)}&status=active&agreement=pending`);
  await expect(page.getByLabel('Agreement')).toHaveValue('pending');
  await expect(page.getByText('No members match.')).toBeVisible();
  await expectAccessible(page);

  // Once accepted, the agreement page says when.
  await open(page, '/agreement');
  await expect(page.getByText(/You accepted this version on/)).toBeVisible();
});
