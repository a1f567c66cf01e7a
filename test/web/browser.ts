// Browser-test helpers: Debian's Chromium driven by playwright-core against a real ɳChat server
// (test/helpers/server.ts, SQLite, port 0) serving the built client (web/dist, built once per run
// by scripts/ensure-web.mjs when stale). Without /usr/bin/chromium the suites skip with a message,
// and fail instead under CI=true or NCHAT_REQUIRE_SERVICES=1.
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
// @ts-expect-error plain ESM script without types
import { ensureWeb } from '../../scripts/ensure-web.mjs';

export const CHROMIUM = '/usr/bin/chromium';
const required =
  ['1', 'true'].includes(process.env.NCHAT_REQUIRE_SERVICES ?? '') || (!!process.env.CI && !['false', '0'].includes(process.env.CI));

/** undefined when browser tests can run; else why they are skipped. Throws when they are required. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`;
  if (required) throw new Error(why.replace('skipped', 'required'));
  return why;
}

export interface WebEnv {
  server: TestServer & { stop(): Promise<void> };
  browser: Browser;
  url: string;
  stop(): Promise<void>;
}

export async function startWeb(env: Record<string, string> = {}): Promise<WebEnv> {
  if (ensureWeb({ quiet: true }) !== 0) throw new Error('web client build failed');
  const server = await startTestServer('sqlite', env);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    server,
    browser,
    url: server.running.url,
    async stop() {
      await browser.close();
      await server.stop();
    },
  };
}

export interface Watched {
  context: BrowserContext;
  page: Page;
  /** alert/confirm/prompt dialogs the page opened that the test did not expect. */
  dialogs: string[];
  /** CSP violations reported in the page (an injection attempt that reached the DOM). */
  violations: string[];
  errors: string[];
}

/** A fresh context (own storage) and page, watching dialogs, CSP violations and page errors. */
export async function newUser(
  env: WebEnv,
  opts: { acceptConfirm?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<Watched> {
  const context = await env.browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } });
  const page = await context.newPage();
  const w: Watched = { context, page, dialogs: [], violations: [], errors: [] };
  page.on('dialog', (d) => {
    if (d.type() === 'confirm' && opts.acceptConfirm) return void d.accept();
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => w.errors.push(String(e)));
  await page.exposeFunction('__cspViolation', (v: string) => w.violations.push(v));
  // Page-side code is given as text: the root tsconfig has no DOM types.
  await page.addInitScript({
    content:
      "document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(e.violatedDirective + ' ' + e.blockedURI));",
  });
  return w;
}

export async function signUpInUi(page: Page, url: string, username: string, displayName = username): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'No account? Sign up' }).click();
  await page.getByLabel('Email').fill(`${username}@example.test`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.locator('.shell').waitFor();
}

export async function signInInUi(page: Page, url: string, login: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email or username').fill(login);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.shell').waitFor();
}

/** Signs a user in by storing a session from the API (skips the form). */
export async function signInWithTokens(w: Watched, url: string, s: { token: string; refreshToken: string; id: string }): Promise<void> {
  const session = JSON.stringify(JSON.stringify({ accessToken: s.token, refreshToken: s.refreshToken, userId: s.id }));
  await w.context.addInitScript({
    content: `if (!localStorage.getItem('nchat.session')) localStorage.setItem('nchat.session', ${session});`,
  });
  await w.page.goto(url);
  await w.page.locator('.shell').waitFor();
}

export async function send(page: Page, text: string, label: string | RegExp = /^Message /): Promise<void> {
  const box = page.getByRole('combobox', { name: label });
  await box.fill(text);
  await box.press('Enter');
}

/** How many rendered messages have exactly this text. */
export function countMessages(page: Page, text: string): Promise<number> {
  return page.getByTestId('message-text').filter({ hasText: text }).count();
}
