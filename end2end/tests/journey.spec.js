// The whole invitation journey, as people do it: an admin at a desk invites a messy list; an
// invitee registers on a phone with a second factor and the EULA; the admin sees them Active.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, mailTo, nextMail, authenticatorCode } = require('./helpers');

const INVITEE = 'ada.journey@northwind.test';
const SECOND = 'grace.journey@northwind.test';
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

test('an admin invites a messy list and the invitee registers on a phone', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one journey across two devices');
  test.setTimeout(120_000);
  await signIn(page);

  // The organization requires 2FA and has an agreement to accept.
  await open(page, '/settings');
  await page.getByLabel('Require two-factor authentication for every member').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  const publish = page.getByRole('button', { name: /Publish version \d+/ });
  const version = Number((await publish.textContent()).match(/\d+/)[0]);
  await page.getByLabel(`Text of version ${version}`).fill('Journey terms: treat people well.');
  await publish.click();
  await expect(page.getByText(`Version ${version} is current`)).toBeVisible();

  // The admin pastes a messy list and sees the count and the classes before sending.
  await open(page, '/users');
  await page.getByRole('button', { name: 'Add users' }).click();
  await page.getByRole('link', { name: '✈ Invite users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: '✈ Invite users' })).toBeVisible();
  await open(page, '/users/invite');
  const paste = `Ada Lovelace <Ada.Journey@Northwind.test>, bad@\n\n${INVITEE};owner@northwind.test\n"Hopper, Grace" <grace.journey@northwind.test>`;
  await page.getByLabel('Email addresses').fill(paste);
  await expect(page.getByText('3 addresses recognised')).toBeVisible();
  await expect(page.getByText('New: 2')).toBeVisible();
  await expect(page.getByText('Invalid: 1')).toBeVisible();
  await expect(page.getByText('Duplicate in this list: 1')).toBeVisible();
  await expect(page.getByText('Already a member: 1')).toBeVisible();
  await expectAccessible(page);
  const before = (await mailTo(INVITEE)).length;
  const graceBefore = (await mailTo(SECOND)).length;
  await page.getByRole('button', { name: '✈ Invite', exact: true }).click();

  await expect(page.getByRole('heading', { name: '2 invitation emails sent' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('heading', { name: 'Not invited: 3' })).toBeVisible();
  await expect(page.getByText('bad@', { exact: true })).toBeVisible();
  await expectAccessible(page);

  // The invitee opens the link from the delivered email on a phone.
  const invitation = await nextMail(INVITEE, before);
  const link = invitation.match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];
  const phone = await browser.newContext(PHONE);
  const p = await phone.newPage();
  await open(p, link);
  await expect(p.getByRole('heading', { name: 'Join Northwind' })).toBeVisible();
  await expect(p.getByLabel('Email address')).toHaveValue(INVITEE);
  await expectAccessible(p);

  await p.getByLabel('First name').fill('Ada');
  await p.getByLabel('Last name').fill('Lovelace');
  await p.getByLabel('Mobile number').fill('07911 123456');
  await p.getByLabel('Password').fill('short');
  await p.getByRole('button', { name: 'Continue' }).click();
  // A national number with no country and a short password: both errors at once, each beside
  // its field, and what was typed stays.
  await expect(p.locator('#mobile-error')).toContainText('Choose your country');
  await expect(p.locator('#register-password-error')).toContainText('at least 12 characters');
  await expect(p.getByLabel('First name')).toHaveValue('Ada');
  await expect(p.getByLabel('Mobile number')).toHaveValue('07911 123456');
  await p.getByLabel('Country').selectOption('GB');
  await p.getByLabel('Password').fill('analytical engine passphrase');
  await p.getByRole('button', { name: 'Continue' }).click();

  await expect(p.getByText("Northwind asks everyone to confirm a second way of reaching them.")).toBeVisible();
  await expect(p.getByLabel('Text message to my mobile number')).toBeDisabled();
  await expectAccessible(p);
  const seen = (await mailTo(INVITEE)).length;
  await p.getByRole('button', { name: 'Continue' }).click();
  const codeMail = await nextMail(INVITEE, seen);
  const code = codeMail.match(/Your Onboard code for [a-z ]+ is (\d{6})/)[1];
  await p.getByLabel('Code', { exact: true }).fill(code);
  await p.getByRole('button', { name: 'Confirm' }).click();

  await expect(p.getByRole('heading', { name: `End-user licence agreement, version ${version}` })).toBeVisible();
  await expect(p.getByText('Journey terms: treat people well.')).toBeVisible();
  await expectAccessible(p);
  await p.getByLabel('I have read and accept the agreement').check();
  await p.getByRole('button', { name: 'Accept and finish' }).click();
  await expect(p.getByRole('heading', { level: 1, name: 'Welcome, Ada Lovelace' })).toBeVisible();
  await phone.close();

  // Back at the desk, the admin sees the new member Active.
  await open(page, '/users?q=ada.journey');
  await expect(page.getByRole('row').filter({ has: page.getByRole('cell', { name: INVITEE, exact: true }) }).getByText('Active')).toBeVisible();
  await expectAccessible(page);

  // The second invitee chooses an authenticator app: scans the QR code (here, reads its key),
  // confirms with the app's code, and later signs in with the app.
  const graceLink = (await nextMail(SECOND, graceBefore)).match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];
  const phone2 = await browser.newContext(PHONE);
  const g = await phone2.newPage();
  await open(g, graceLink);
  await g.getByLabel('First name').fill('Grace');
  await g.getByLabel('Last name').fill('Hopper');
  await g.getByLabel('Mobile number').fill('+33 6 12 34 56 78');
  await g.getByLabel('Password').fill('compiler pioneer passphrase');
  await g.getByRole('button', { name: 'Continue' }).click();
  await g.getByLabel('An authenticator app (scan a QR code)').check();
  await g.getByRole('button', { name: 'Continue' }).click();
  await expect(g.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  await expectAccessible(g);
  const key = await g.locator('.totp-key').getAttribute('data-key');
  await g.getByLabel('Code', { exact: true }).fill(authenticatorCode(key));
  await g.getByRole('button', { name: 'Confirm' }).click();
  await g.getByLabel('I have read and accept the agreement').check();
  await g.getByRole('button', { name: 'Accept and finish' }).click();
  await expect(g.getByRole('heading', { level: 1, name: 'Welcome, Grace Hopper' })).toBeVisible();
  await phone2.close();

  const phone3 = await browser.newContext(PHONE);
  const h = await phone3.newPage();
  await open(h, '/sign-in');
  await h.getByLabel('Email address').fill(SECOND);
  await h.getByLabel('Password').fill('compiler pioneer passphrase');
  await h.getByRole('button', { name: 'Sign in' }).click();
  await expect(h.getByText('Open your authenticator app and enter the 6-digit code it shows for Onboard.')).toBeVisible();
  // The next period's code: the one used to register cannot be used twice.
  await h.getByLabel('Code', { exact: true }).fill(authenticatorCode(key, 1));
  await h.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(h.getByRole('heading', { level: 1, name: 'Welcome, Grace Hopper' })).toBeVisible();
  await phone3.close();

  // Leave 2FA optional for the other tests.
  await open(page, '/settings');
  await page.getByLabel('Require two-factor authentication for every member').uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
});
