// Playwright runs against the release build (the optimized WASM people get), started fresh
// on its own port and database. Debian's Chromium is used: browsers cannot be downloaded here.
const { defineConfig } = require('@playwright/test');

const PORT = 3100;

module.exports = defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'first-run', testMatch: /first-run\.setup\.js/ },
    {
      name: 'desktop',
      dependencies: ['first-run'],
      testMatch: /.*\.spec\.js/,
      use: { viewport: { width: 1280, height: 800 } },
    },
    {
      name: 'phone',
      dependencies: ['first-run'],
      testMatch: /.*\.spec\.js/,
      use: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    },
  ],
  webServer: [
    {
      // Catches every email the server sends, for tests to read links and codes from.
      command: 'node ./smtp-sink.js',
      url: 'http://127.0.0.1:3126/messages',
      reuseExistingServer: process.env.E2E_REUSE_SERVER === '1',
    },
    {
      // Telegram's Bot API and an agent endpoint, for the connector tests.
      command: 'node ./chat-fakes.js',
      url: 'http://127.0.0.1:3127/recorded',
      reuseExistingServer: process.env.E2E_REUSE_SERVER === '1',
    },
    {
      command: 'sh ./start-server.sh',
      url: `http://127.0.0.1:${PORT}/readyz`,
      // A fresh server and database for every run, unless a developer asks to reuse one.
      reuseExistingServer: process.env.E2E_REUSE_SERVER === '1',
      timeout: 120_000,
      stdout: 'pipe',
    },
  ],
});
