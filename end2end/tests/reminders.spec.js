// Automatic reminders (issue 16): set up in Settings, then "Remind all pending" on a filter of the
// Users list, with a preview of how many and over which channels and a progress bar; the reminder
// carries a fresh link that opens the registration form, and the list says who was reminded.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, nextMail, mailTo } = require('./helpers');

test('reminders are set up, and the pending people of a filter are reminded at once', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const tag = testInfo.project.name;
  const who = `remind${tag}@northwind.test`;
  await signIn(page);

  await open(page, '/settings');
  const section = page.getByRole('region', { name: 'Reminders' });
  await section.getByLabel('Remind people who have not registered').check();
  await section.getByLabel('Days after the invitation').fill('0');
  await section.getByLabel('Days before the invitation expires').fill('0');
  await section.getByRole('button', { name: 'Save reminders' }).click();
  await expect(section.locator('#remind-after-error')).toHaveText(/both days at 0/);
  await section.getByLabel('Days after the invitation').fill('3');
  await section.getByLabel('Days before the invitation expires').fill('1');
  await section.getByLabel('Send reminders by').selectOption('chat');
  await section.getByRole('button', { name: 'Save reminders' }).click();
  await expect(section.getByRole('status')).toHaveText('Saved.');
  await expect(section.getByLabel('Send reminders by')).toHaveValue('chat');
  await expect(section.getByLabel('Days after the invitation')).toHaveValue('3');
  await expectAccessible(page);

  await open(page, '/users/invite');
  await page.getByLabel('Email addresses').fill(who);
  await expect(page.getByText('1 address recognised')).toBeVisible();
  await page.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(page.getByRole('heading', { name: '1 invitation email sent' })).toBeVisible({ timeout: 20_000 });
  const invitation = await nextMail(who, 0);

  // The list says when the link expires; the filter finds just this person.
  await open(page, `/users?status=pending&q=remind${tag}`);
  const row = page.getByRole('row', { name: new RegExp(who) });
  await expect(row).toContainText(/Expires in \d+ days/);
  await page.getByRole('button', { name: 'Remind all pending…' }).click();
  await expect(page.getByText(/Remind 1 pending member now: 1 by email\. Reminders go out at up to 600 a minute\./)).toBeVisible();
  await expectAccessible(page);
  const seen = (await mailTo(who)).length;
  await page.getByRole('button', { name: 'Send 1 reminder' }).click();
  await expect(page.getByText('The reminder is on its way.')).toBeVisible({ timeout: 20_000 });

  const reminder = await nextMail(who, seen);
  expect(reminder).toContain('Reminder: finish joining Northwind');
  const first = invitation.match(/\/register\/([A-Za-z0-9_-]+)/)[1];
  const fresh = reminder.match(/\/register\/([A-Za-z0-9_-]+)/)[1];
  expect(fresh).not.toBe(first);
  await page.reload();
  await expect(page.getByRole('row', { name: new RegExp(who) })).toContainText(/Reminded 1× · expires in \d+ days/);
  await expectAccessible(page);

  // The fresh link opens the registration form, and so does the first email's.
  await page.context().clearCookies();
  await open(page, `/register/${fresh}`);
  await expect(page.getByLabel('First name')).toBeVisible();
  await open(page, `/register/${first}`);
  await expect(page.getByLabel('First name')).toBeVisible();
});
