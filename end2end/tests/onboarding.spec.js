// Tools › Onboarding as an admin uses it: make a team, message the members who have not
// onboarded with a previewed custom message, and watch statuses and bars change live.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, openAccountMenu, mailTo, nextMail } = require('./helpers');

const FIRST = 'lin.support@northwind.test';
const SECOND = 'kim.support@northwind.test';
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

function memberRow(page, email) {
  return page.getByRole('row').filter({ has: page.getByRole('cell', { name: email, exact: true }) });
}

test('an admin messages a team and watches its statuses and bars change', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one admin journey across two devices');
  test.setTimeout(120_000);
  await signIn(page);

  // Two people are invited.
  await open(page, '/users/invite');
  await page.getByLabel('Email addresses').fill(`${FIRST}\n${SECOND}`);
  await expect(page.getByText('2 addresses recognised')).toBeVisible();
  await page.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(page.getByRole('heading', { name: '2 invitation emails sent' })).toBeVisible({ timeout: 20_000 });

  // A team is made on the dashboard and given them.
  await open(page, '/onboarding');
  await expect(page.getByRole('heading', { level: 1, name: 'Onboarding' })).toBeVisible();
  await page.getByLabel('New team').fill('Support');
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('link', { name: 'Support', exact: true }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Support' })).toBeVisible();
  await page.getByText('Edit team').click();
  await page.getByLabel('Add members by email').fill(`${FIRST}, ${SECOND}`);
  await page.getByRole('button', { name: 'Add to team' }).click();
  await expect(page.getByText('Added 2 member(s).')).toBeVisible();
  await expect(memberRow(page, FIRST).getByText('Not connected')).toBeVisible();
  await expect(memberRow(page, SECOND).getByText('Not connected')).toBeVisible();
  await expectAccessible(page);

  // Message team: a custom message, its live preview, and the recipients.
  await page.getByRole('button', { name: 'Message team Support' }).click();
  const dialog = page.getByRole('dialog', { name: 'Message team Support' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Custom message (optional)').fill('Please **register** by Friday. <b>not bold</b>');
  const preview = dialog.getByRole('region', { name: 'Preview' });
  await expect(preview.locator('strong', { hasText: 'register' })).toBeVisible();
  await expect(preview.getByText('<b>not bold</b>', { exact: false })).toBeVisible();
  await expect(preview.getByRole('link', { name: 'Finish registering' })).toBeVisible();
  await dialog.getByText('Message details').click();
  const recipients = dialog.getByRole('list', { name: 'Recipients' });
  await expect(recipients.getByText(FIRST, { exact: false })).toBeVisible();
  await expect(recipients.getByText(SECOND, { exact: false })).toBeVisible();
  await expectAccessible(page);
  const before = (await mailTo(FIRST)).length;
  await dialog.getByRole('button', { name: 'Send message' }).click();
  await expect(dialog.getByText('2 delivered, 0 failed, 0 sending.')).toBeVisible({ timeout: 20_000 });
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();

  // Without a reload, both are Notified.
  await expect(memberRow(page, FIRST).getByText('Notified')).toBeVisible();
  await expect(memberRow(page, SECOND).getByText('Notified')).toBeVisible();
  const bar = page.getByRole('progressbar', { name: 'Support onboarded', exact: true });
  await expect(bar).toHaveAttribute('aria-valuenow', '0');

  // The reminder carries a fresh link; the first person registers on a phone.
  const reminder = await nextMail(FIRST, before);
  expect(reminder).toContain('Please register by Friday.');
  const link = reminder.match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];
  const phone = await browser.newContext(PHONE);
  const p = await phone.newPage();
  await open(p, link);
  await p.getByLabel('First name').fill('Lin');
  await p.getByLabel('Last name').fill('Support');
  await p.getByLabel('Mobile number').fill('+44 7911 123457');
  await p.getByLabel('Password').fill('support desk passphrase');
  await p.getByRole('button', { name: 'Continue' }).click();
  const agreement = p.getByLabel('I have read and accept the agreement');
  const accept = p.getByRole('button', { name: 'Accept and finish' });
  await expect(accept).toBeVisible();
  if (await agreement.isVisible()) await agreement.check();
  await accept.click();
  await expect(p.getByRole('heading', { level: 1, name: 'Welcome, Lin Support' })).toBeVisible();
  await phone.close();

  // The dashboard follows by itself: the bar moves and the row says Onboarded.
  await expect(bar).toHaveAttribute('aria-valuenow', '1');
  await expect(memberRow(page, FIRST).getByText('Onboarded')).toBeVisible();
  await expectAccessible(page);

  // Identity mappings and the profile say plainly when a provider is not set up here.
  await open(page, '/settings/slack-mappings');
  await expect(page.getByRole('heading', { level: 1, name: 'Slack identity mappings' })).toBeVisible();
  await expect(page.getByText('Slack is not set up on this Onboard')).toBeVisible();
  await expect(page.getByRole('cell', { name: FIRST, exact: true })).toBeVisible();
  await expectAccessible(page);
  await (await openAccountMenu(page)).getByRole('link', { name: 'Your profile' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Your profile' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Chat accounts' })).toBeVisible();
  await expectAccessible(page);
});
