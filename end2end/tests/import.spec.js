// Inviting from a spreadsheet (issue 16): a CSV saved by Excel is checked row by row before
// anything is sent, then each row's outcome is followed on the batch page and downloaded; the
// invitee's registration form starts with what the sheet said.
const fs = require('fs');
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, nextMail, mailTo } = require('./helpers');

test('a sheet is checked row by row, sent, followed per row and prefills registration', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const tag = testInfo.project.name;
  const ada = `ada.sheet.${tag}@northwind.test`;
  const gus = `gus.sheet.${tag}@northwind.test`;
  await signIn(page);
  await open(page, '/users/invite');
  await page.getByRole('link', { name: 'From a spreadsheet' }).click();
  await expect(page.getByRole('link', { name: 'From a spreadsheet' })).toHaveAttribute('aria-current', 'page');
  await expectAccessible(page);

  // As Excel saves it in much of Europe: a byte-order mark, semicolons, quotes, Windows line ends.
  const csv = '\uFEFFE-mail;First name;Last name;Mobile;Service area;Role;Notes\r\n' +
    `${ada};Ada;"Lovelace; Countess";+44 7911 123456;general;Manager;VIP\r\n` +
    `carol.sheet.${tag}@northwind.test;;;;Nort;;\r\n` +
    `${gus};Gus;;;;;\r\n` +
    'owner@northwind.test;;;;;;\r\n';
  await page.getByLabel('Spreadsheet file (CSV)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(page.getByText('people.csv: 5 lines read.')).toBeVisible();
  await page.getByRole('button', { name: 'Check the sheet' }).click();

  // The dry run: nothing sent, every row with its class, a bad one naming its row and cell.
  await expect(page.getByRole('heading', { level: 1, name: 'Check before inviting: people.csv' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('heading', { name: '4 rows read' })).toBeVisible();
  await expect(page.getByText('Not read, as Onboard has no use for them: ‘Notes’.')).toBeVisible();
  const rows = page.getByRole('table');
  await expect(rows.getByText('Unknown service area: row 3: no service area called ‘Nort’.')).toBeVisible();
  await expect(rows.getByText(/Already a member: row 5: owner@northwind\.test is already a member\./)).toBeVisible();
  await expect(rows.getByRole('row', { name: new RegExp(ada.replace(/\./g, '\\.')) })).toContainText('Manager');
  await expectAccessible(page);

  // One class at a time.
  await page.getByRole('link', { name: 'New: 2' }).click();
  await expect(page.getByRole('link', { name: 'New: 2' })).toHaveAttribute('aria-current', 'page');
  await expect(rows.getByRole('row')).toHaveCount(3);
  expect(await mailTo(ada)).toHaveLength(0);

  const before = (await mailTo(ada)).length;
  await page.getByRole('button', { name: '✈ Invite 2 people' }).click();
  await expect(page.getByRole('heading', { name: '2 invitation emails sent' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('heading', { name: 'What became of each row' })).toBeVisible();
  await expect(page.getByRole('row', { name: new RegExp(gus.replace(/\./g, '\\.')) })).toContainText('Invited · email sent', { timeout: 20_000 });
  await expect(page.getByText('row 3: no service area called ‘Nort’.')).toBeVisible();
  await expectAccessible(page);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download results (CSV)' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^import-results-\d+\.csv$/);
  const results = fs.readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(results[0]).toBe('\uFEFFrow,email,first_name,last_name,mobile,service_area,role,teams,class,result,reason');
  expect(results[1]).toBe(`2,${ada},Ada,Lovelace; Countess,'+447911123456,General,Manager,,New,Invited · email sent,`);

  // The invitee's form starts with the sheet's details, which they may still change.
  const invitation = await nextMail(ada, before);
  const link = invitation.match(/http:\/\/127\.0\.0\.1:3100(\/register\/[A-Za-z0-9_-]+)/)[1];
  await page.context().clearCookies();
  await open(page, link);
  await expect(page.getByLabel('First name')).toHaveValue('Ada');
  await expect(page.getByLabel('Last name')).toHaveValue('Lovelace; Countess');
  await expect(page.getByLabel('Mobile number')).toHaveValue('+447911123456');
  await expectAccessible(page);
});
