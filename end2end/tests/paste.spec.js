// Lists pasted from spreadsheets and web pages carry characters nobody can see (issue 13): around
// an address they separate, inside one they are named with their place, and the live count is
// exactly what is then invited.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn } = require('./helpers');

test('invisible characters in a paste are separators or named reasons, and the count is what is invited', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'an admin task at a desk');
  await signIn(page);
  await open(page, '/users/invite');
  const paste = [
    '\uFEFFalice.paste@northwind.test',
    '\u200Bbob.paste@northwind.test',
    'carol.paste\u00A0@northwind.test',
    'dave.paste@northwind.test\u200F',
    'ed.paste@north\u00ADwind.test',
    '<script>alert(1)</script>@northwind.test',
  ].join('\n');
  await page.getByLabel('Email addresses').fill(paste);
  await expect(page.getByText('3 addresses recognised')).toBeVisible();
  await expect(page.getByText('Invalid: 3')).toBeVisible();
  await expect(page.getByText(/it contains an invisible no-break space after ‘carol\.paste’\./)).toBeVisible();
  await expect(page.getByText(/it contains an invisible soft hyphen after ‘ed\.paste@north’\./)).toBeVisible();
  await expect(page.getByText(/“<script>alert\(1\)<\/script>@northwind\.test” is not a valid email address: it contains ‘<’/)).toBeVisible();
  await expectAccessible(page);

  await page.getByRole('button', { name: '✈ Invite', exact: true }).click();
  await expect(page.getByRole('heading', { name: '3 invitation emails sent' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('heading', { name: 'Not invited: 3' })).toBeVisible();
});

// An international domain is one address in either form; an address the mail server cannot take
// (a non-ASCII part before the @, and no SMTPUTF8) fails at once and is fixed on the batch page.
test('international addresses are counted by the server and a failed one is fixed and sent again', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'an admin task at a desk');
  await signIn(page);
  await open(page, '/users/invite');
  await page.getByLabel('Email addresses').fill('üser.paste@northwind.test\nuser.intl@bücher.test, user.intl@xn--bcher-kva.test');
  await expect(page.getByText('2 addresses recognised')).toBeVisible();
  await expect(page.getByText('Duplicate in this list: 1')).toBeVisible();
  await page.getByRole('button', { name: '✈ Invite', exact: true }).click();

  await expect(page.getByRole('heading', { name: 'Delivery failed: 1' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText(/the mail server does not accept international addresses/)).toBeVisible();
  await expectAccessible(page);
  const address = page.getByLabel('Address for üser.paste@northwind.test');
  await address.fill('user.paste@northwind.test');
  await page.getByRole('button', { name: '✈ Fix and resend' }).click();
  await expect(page.getByRole('heading', { name: 'Delivery failed: 1' })).toBeHidden({ timeout: 20_000 });
  await expect(page.getByRole('heading', { name: '2 invitation emails sent' })).toBeVisible({ timeout: 20_000 });
});
