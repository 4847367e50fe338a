// The onboarding funnel (issue 16): Tools › Onboarding › Funnel shows how far a batch's invitees
// got, as bars and as a table, and exports the same as CSV.
const fs = require('fs');
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, nextMail, goTo } = require('./helpers');

test("a batch's funnel shows who got how far, as a chart, a table and a file", async ({ page, browser }, testInfo) => {
  test.setTimeout(120_000);
  const tag = testInfo.project.name;
  const who = `funnel${tag}@northwind.test`;
  await signIn(page);

  await open(page, '/users/invite');
  await page.getByLabel('Email addresses').fill(`${who}, funnel-idle${tag}@northwind.test`);
  await expect(page.getByText('2 addresses recognised')).toBeVisible();
  await page.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(page.getByRole('heading', { name: '2 invitation emails sent' })).toBeVisible({ timeout: 20_000 });
  const batch = new URL(page.url()).pathname.split('/').pop();

  // One of the two opens the link on a phone and enters their details.
  const link = (await nextMail(who, 0)).match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const p = await phone.newPage();
  await open(p, link);
  await p.getByLabel('First name').fill('Fay');
  await p.getByLabel('Last name').fill('Funnel');
  await p.getByLabel('Mobile number').fill('+44 7911 123456');
  await p.getByLabel('Password').fill('a funnel test passphrase');
  await p.getByRole('button', { name: 'Continue' }).click();
  // The next step (a second factor, or the agreement, as the organization requires) replaces the form.
  await expect(p.getByLabel('First name')).toBeHidden();
  await phone.close();

  // The batch page leads to its funnel; Tools › Onboarding › Funnel picks any batch.
  await expect(page.getByRole('link', { name: 'How far this batch got: its funnel' })).toHaveAttribute(
    'href',
    `/onboarding/funnel?scope=batch:${batch}`,
  );
  await goTo(page, 'Tools', 'Onboarding');
  await page.getByRole('navigation', { name: 'Onboarding views' }).getByRole('link', { name: 'Funnel' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Whole organization' })).toBeVisible();
  await page.getByLabel('Show the funnel of').selectOption(`batch:${batch}`);
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await expect(page.getByRole('heading', { level: 2, name: /^Batch of / })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`scope=batch%3A${batch}|scope=batch:${batch}`));

  const table = page.getByRole('table', { name: 'Step by step' });
  // Each row: the step, then how many reached it and the conversion from the step before.
  const cells = (step) => table.getByRole('row', { name: new RegExp(`^${step}`) }).getByRole('cell');
  const expectRow = async (step, reached, conversion) => {
    await expect(cells(step).nth(0)).toHaveText(reached);
    await expect(cells(step).nth(1)).toHaveText(conversion);
  };
  await expectRow('Invited', '2', '—');
  await expectRow('Delivered', '2', '100.0%');
  await expectRow('Link opened', '1', '50.0%');
  await expectRow('Details entered', '1', '100.0%');
  await expectRow('Second factor set', '0', '0.0%');
  await expectRow('Active', '0', '—');
  await expect(page.locator('.funnel-bars li')).toHaveCount(7);
  await expectAccessible(page);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`onboarding-funnel-batch-${batch}.csv`);
  const csv = fs.readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(csv[0]).toBe('\uFEFFstep,reached,conversion_percent,median_seconds');
  expect(csv[1]).toBe('invited,2,,');
  expect(csv[4]).toMatch(/^details-entered,1,100\.0,\d+$/);
});
