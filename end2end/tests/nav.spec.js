// The product documents' own paths through the menus ("your initials in the top right →
// Access management → Users → Add Users (+) → Invite Users", "Tools > Onboarding"), on a desktop
// and on a phone, by keyboard and by touch.
const { test, expect } = require('@playwright/test');
const { open, expectAccessible, signIn, onPhone, openMenu, goTo } = require('./helpers');

/** Every page the Owner can open from the menus, and the pages around them. */
const PAGES = [
  '/',
  '/users',
  '/users/invite',
  '/onboarding',
  '/connectors',
  '/access-requests',
  '/chat-users',
  '/settings',
  '/settings/slack-mappings',
  '/settings/microsoftteams-mappings',
  '/outbox',
  '/profile',
];

test('the documents\' paths: initials › Access management › Users › Add users › Invite users, and Tools › Onboarding', async ({ page }) => {
  await signIn(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const account = nav.getByRole('button', { name: /^Account menu/ });
  await expect(account).toHaveText(/^O/);
  await expect(account).toHaveAttribute('aria-expanded', 'false');
  // On a phone, the bar is that one button.
  await expect(nav.getByRole('button', { name: 'Tools', exact: true })).toBeVisible({ visible: !onPhone(page) });

  const access = await openMenu(page, 'Access management');
  await expect(nav.getByText('owner@northwind.test', { exact: true })).toBeVisible();
  // The organization: its name, or the switch once the Owner has joined another (join.spec.js).
  const org = nav.getByText('Northwind', { exact: true }).or(nav.getByRole('combobox', { name: 'Organization' }));
  await expect(org.first()).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Your profile' })).toBeVisible();
  await expect(nav.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expectAccessible(page);
  await access.getByRole('link', { name: 'Users', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(account).toHaveAttribute('aria-expanded', 'false');

  const add = page.getByRole('button', { name: 'Add users' });
  await add.click();
  await expect(add).toHaveAttribute('aria-expanded', 'true');
  await expectAccessible(page);
  await page.getByRole('link', { name: '✈ Invite users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: '✈ Invite users' })).toBeVisible();

  await goTo(page, 'Tools', 'Onboarding');
  await expect(page.getByRole('heading', { level: 1, name: 'Onboarding' })).toBeVisible();
  // The menu marks the page it is on.
  const tools = await openMenu(page, 'Tools');
  await expect(tools.getByRole('link', { name: 'Onboarding', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(tools.getByRole('link', { name: 'Connectors', exact: true })).not.toHaveAttribute('aria-current', 'page');
  await expectAccessible(page);
});

test('menus answer the keyboard: arrows move, Escape closes and gives focus back', async ({ page }) => {
  await signIn(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const button = onPhone(page)
    ? nav.getByRole('button', { name: /^Account menu/ })
    : nav.getByRole('button', { name: 'Settings', exact: true });
  // The first, second and last entries: on a phone the account menu's (Access management, then
  // Tools), on a desktop the Settings menu's.
  // Once the Owner has joined another organization (join.spec.js), the switch's button comes first.
  const switchButton = nav.getByRole('button', { name: 'Switch' });
  const users = nav.getByRole('link', { name: 'Users', exact: true });
  const onboarding = nav.getByRole('group', { name: 'Tools' }).getByRole('link', { name: 'Onboarding' });
  await expect(button).toBeVisible();
  const switches = (await nav.getByRole('button', { name: 'Switch', includeHidden: true }).count()) > 0;
  const [first, second, last] = onPhone(page)
    ? [switches ? switchButton : users, switches ? users : onboarding, nav.getByRole('button', { name: 'Sign out' })]
    : [nav.getByRole('link', { name: 'Organization' }), nav.getByRole('link', { name: 'Slack mappings' }), nav.getByRole('link', { name: 'Outbox' })];
  await button.focus();
  await page.keyboard.press('ArrowDown');
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(first).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(second).toBeFocused();
  await page.keyboard.press('End');
  await expect(last).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(first).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(last).toBeFocused();
  await page.keyboard.press('Home');
  await expect(first).toBeFocused();
  // Tab past the last entry leaves the menu, which closes.
  await page.keyboard.press('End');
  await page.keyboard.press('Tab');
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await button.focus();
  await page.keyboard.press('ArrowUp');
  await expect(last).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect(button).toBeFocused();

  // A click outside closes an open menu.
  await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await page.getByRole('banner').click({ position: { x: page.viewportSize().width / 2, y: 10 } });
  await expect(button).toHaveAttribute('aria-expanded', 'false');
});

test('on a phone, the one menu opens with a tap and no page scrolls sideways', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'phone width and touch');
  test.setTimeout(90_000);
  await signIn(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('button', { name: /^Account menu/ }).tap();
  const settings = nav.getByRole('group', { name: 'Settings' });
  await expect(settings.getByRole('link', { name: 'Outbox' })).toBeVisible();
  await settings.getByRole('link', { name: 'Outbox' }).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Outbox' })).toBeVisible();

  const sideways = async (path) => {
    await open(page, path);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(wide, `${path} scrolls sideways at 360 px`).toBeLessThanOrEqual(0);
  };
  for (const path of PAGES) await sideways(path);
  // And the pages of someone signed out.
  await page.context().clearCookies();
  for (const path of ['/sign-in', '/no-such-page']) await sideways(path);
});
