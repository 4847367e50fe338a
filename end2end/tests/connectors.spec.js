// A Telegram connector with Onboarding on, as an admin sets it up: a new chat user's first
// message waits for approval in the Access Requests panel (appearing live), and once approved
// their next message reaches the agent, whose reply goes back through Telegram.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn } = require('./helpers');

// The webhook secret the connector form generates; Telegram's posts carry it in a header.
let secretToken;
const CHAT_ID = 4242;

async function recorded() {
  return (await fetch('http://127.0.0.1:3127/recorded')).json();
}

const TOM = { id: CHAT_ID, first_name: 'Tom', last_name: 'Gram' };

/** What Telegram would post for a private text message, from Tom Gram unless told. */
async function telegramUpdate(webhook, updateId, text, from = TOM) {
  const update = {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      from: { ...from, is_bot: false },
      chat: { id: from.id, type: 'private' },
      text,
    },
  };
  return fetch(webhook, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secretToken },
    body: JSON.stringify(update),
  });
}

test('an approved Telegram user reaches the agent after onboarding', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'an admin journey on a desktop');
  test.setTimeout(120_000);
  await signIn(page);

  // A Telegram connector pointing at the fake agent.
  await open(page, '/connectors');
  await page.getByRole('button', { name: 'Add connector' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add connector' });
  await dialog.getByLabel('Chat platform').selectOption('telegram');
  await dialog.getByLabel('Name').fill('Support bot');
  await dialog.getByLabel('Agent endpoint').fill('http://127.0.0.1:3127/agent');
  await dialog.getByLabel('Agent signing secret').fill('e2e agent signing secret');
  await dialog.getByLabel('Bot token').fill('123456:ABC-e2e-token');
  await dialog.getByLabel('Webhook secret token').fill('bad secret with spaces');
  await dialog.getByRole('button', { name: 'Add connector' }).click();
  await expect(dialog.getByText('Webhook secret token: Must not contain spaces.')).toBeVisible();
  // The form generates a secret, shown so it can be given to setWebhook.
  await dialog.getByRole('button', { name: 'Generate a secret' }).click();
  secretToken = await dialog.getByLabel('Webhook secret token').inputValue();
  expect(secretToken).toMatch(/^[0-9a-f]{64}$/);
  await expect(dialog.getByLabel('Webhook secret token')).toHaveAttribute('type', 'text');
  await dialog.getByRole('button', { name: 'Add connector' }).click();
  await expect(dialog).toBeHidden();
  const card = page.getByRole('article', { name: 'Support bot' });
  await expect(card).toBeVisible();
  await expect(card.getByText('123456:ABC-e2e-token')).toHaveCount(0);

  // Onboarding on: an empty message is refused, then a real one is saved.
  await card.getByRole('switch', { name: 'Onboarding' }).check();
  await card.getByRole('button', { name: 'Save onboarding' }).click();
  await expect(card.getByText('Write the onboarding message new users receive')).toBeVisible();
  await card.getByLabel('Onboarding Message').fill('Thanks for writing! An admin will approve you shortly.');
  await card.getByRole('button', { name: 'Save onboarding' }).click();
  await expect(card.getByText('On (OnBoarding)')).toBeVisible();
  await expect(card.getByText('Write the onboarding message new users receive')).toBeHidden();
  // Rules: Telegram users are not mapped to members, so only the deny list is offered; it is
  // kept one id a line, each once.
  await expect(card.getByLabel('Let members of this organization in without a request')).toHaveCount(0);
  await card.getByLabel('Blocked users').fill('999\n999\n888');
  await card.getByRole('button', { name: 'Save rules' }).click();
  await expect(card.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(card.getByLabel('Blocked users')).toHaveValue('888\n999');
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  await expect(card.getByLabel('Blocked users')).toHaveValue('888\n999');
  // Approvals in chat: with no Slack or Teams connector yet, requests are decided in the panel;
  // the approval message is required, and kept.
  const approvals = card.getByRole('group', { name: 'Approvals in chat' });
  await expect(approvals.getByLabel('Post new requests through')).toHaveValue('');
  await approvals.getByLabel('Approval message').fill('   ');
  await approvals.getByRole('button', { name: 'Save approvals' }).click();
  await expect(approvals.getByText('Write the message people receive once they are approved.')).toBeVisible();
  await approvals.getByLabel('Approval message').fill('Approved! Ask the agent anything.');
  await approvals.getByRole('button', { name: 'Save approvals' }).click();
  await expect(approvals.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  await expect(approvals.getByLabel('Approval message')).toHaveValue('Approved! Ask the agent anything.');
  await card.getByText('Webhook URL and set-up').click();
  const webhook = await card.getByLabel('Webhook URL').inputValue();
  expect(webhook).toContain('/webhooks/');
  await expectAccessible(page);

  // The panel is open when the first message arrives; the request appears without a reload.
  await open(page, '/access-requests');
  await expect(page.getByText('No requests here.')).toBeVisible();
  expect((await telegramUpdate(webhook, 1, 'Hello, may I use the assistant?')).status).toBe(200);
  const row = page.getByRole('row').filter({ hasText: 'Tom Gram' });
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(row.getByText('Hello, may I use the assistant?')).toBeVisible();
  await expect(row.getByText('Support bot')).toBeVisible();
  await expect
    .poll(async () => (await recorded()).sent.map((m) => m.text))
    .toEqual(['Thanks for writing! An admin will approve you shortly.']);
  expect((await telegramUpdate(webhook, 2, 'Still there?')).status).toBe(200);
  await expectAccessible(page);

  // A ticked box keeps its tick and focus while the live panel brings in a new request.
  const tick = row.getByRole('checkbox', { name: 'Select Tom Gram' });
  await tick.check();
  await tick.focus();
  const ann = { id: 4343, first_name: 'Ann', last_name: 'Other' };
  expect((await telegramUpdate(webhook, 10, 'Hi, Ann here.', ann)).status).toBe(200);
  await expect(page.getByRole('row').filter({ hasText: 'Ann Other' })).toBeVisible({ timeout: 15_000 });
  await expect(tick).toBeChecked();
  await expect(tick).toBeFocused();
  await expect(page.getByText('1 selected')).toBeVisible();
  await tick.uncheck();

  await row.getByRole('button', { name: 'Approve Tom Gram' }).click();
  await expect(row).toBeHidden();
  await expect(page.getByRole('row').filter({ hasText: 'Ann Other' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Approved (1)' })).toBeVisible();
  const before = (await recorded()).agentCalls.length;
  expect(before).toBe(0);

  // Approved: the next message reaches the agent and its reply comes back.
  expect((await telegramUpdate(webhook, 3, 'What are the opening hours?')).status).toBe(200);
  await expect
    .poll(async () => (await recorded()).agentCalls.map((c) => c.text), { timeout: 15_000 })
    .toEqual(['What are the opening hours?']);
  await expect
    .poll(async () => (await recorded()).sent.map((m) => m.text), { timeout: 15_000 })
    .toContain('Echo: What are the opening hours?');

  // The chat user's conversation, in and out.
  await open(page, '/chat-users');
  await page.getByRole('link', { name: 'Tom Gram' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Tom Gram' })).toBeVisible();
  await expect(page.getByText('kept: waiting for approval')).toHaveCount(2);
  await expect(page.getByText('Echo: What are the opening hours?')).toBeVisible({ timeout: 15_000 });
  await expectAccessible(page);
});
