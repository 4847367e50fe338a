// Settings › Webhooks as an admin sets one up: a bad address is refused beside its field, the
// signing secret is shown once, a test event arrives signed (checked with the Standard Webhooks
// reference library, not Onboard's code), and the delivery log shows it delivered, with Replay.
const { test, expect } = require('@playwright/test');
const { Webhook } = require('standardwebhooks');
const { open, expectAccessible, signIn } = require('./helpers');

const RECEIVER = 'http://127.0.0.1:3127/webhook';

async function received() {
  return (await (await fetch('http://127.0.0.1:3127/recorded')).json()).webhooks;
}

test('an endpoint hears a signed test event, logged with its replay', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'an admin page on a desktop');
  test.setTimeout(90_000);
  await signIn(page);
  await open(page, '/settings/webhooks');
  await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const form = page.getByRole('region', { name: 'New endpoint' });
  await form.getByLabel('Endpoint URL').fill('http://hooks.example.com/onboard');
  await form.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(form.getByText(/Enter the endpoint's HTTPS address/)).toBeVisible();
  await expect(form.getByText('Choose at least one event.')).toBeVisible();

  await form.getByLabel('Endpoint URL').fill(RECEIVER);
  await form.getByLabel('Description').fill('CRM sync');
  await form.getByLabel(/^member\.paused/).check();
  await form.getByRole('button', { name: 'Save endpoint' }).click();
  const shown = page.getByLabel(/Secret of endpoint/);
  await expect(shown).toHaveValue(/^whsec_/);
  const secret = await shown.inputValue();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await expect(shown).toBeHidden();

  const card = page.getByRole('article', { name: RECEIVER });
  await expect(card.getByText('Events: member.paused')).toBeVisible();
  const before = (await received()).length;
  await card.getByRole('button', { name: 'Send test event' }).click();
  await expect.poll(async () => (await received()).length).toBe(before + 1);
  const delivery = (await received())[before];
  const event = new Webhook(secret).verify(delivery.body, delivery.headers);
  expect(event.type).toBe('webhook.test');

  await card.getByText('Delivery log').click();
  await expect
    .poll(async () => {
      await card.getByRole('button', { name: 'Refresh' }).click();
      return card.getByRole('cell', { name: 'Delivered', exact: true }).count();
    })
    .toBe(1);
  await expectAccessible(page);
  await card.getByRole('button', { name: `Replay ${delivery.headers['webhook-id']}` }).click();
  await expect.poll(async () => (await received()).length).toBe(before + 2);
  const replayed = (await received())[before + 1];
  expect(replayed.headers['webhook-id']).toBe(delivery.headers['webhook-id']);
  expect(new Webhook(secret).verify(replayed.body, replayed.headers).type).toBe('webhook.test');

  // Shown once: a reload shows no secret.
  await open(page, '/settings/webhooks');
  await expect(page.getByRole('article', { name: RECEIVER })).toBeVisible();
  await expect(page.getByText(/whsec_/)).toHaveCount(0);
});
