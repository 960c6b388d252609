/**
 * The dashboard in headless Chromium against the real app: sign in with the token, see an incident
 * whose title is an HTML payload rendered as text (no script runs), and sign out. Needs Debian's
 * Chromium at /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, type AppHandle } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const TITLE = '<script>alert(1)</script> & "quotes"';

describe.skipIf(!HAVE_CHROMIUM)(
  HAVE_CHROMIUM ? 'dashboard in headless Chromium' : `dashboard in headless Chromium (SKIPPED: ${CHROMIUM} is missing; apt-get install -y chromium)`,
  () => {
    let fake: FakeGitHub;
    let app: AppHandle;
    let browser: Browser;
    let incidentKey: string;

    beforeAll(async () => {
      fake = await FakeGitHub.start();
      fake.addInstallation({ id: 7, account: 'acme' });
      fake.addRepo('acme', 'api');
      app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
      // the start-up reconcile records the installation and its repositories
      await app.waitForLog('reconcile done', 20_000);
      const opened = await app.api('POST', '/moratorium/api/v1/incidents', { account: 'acme', severity: 'sev1', title: TITLE });
      expect(opened.status).toBe(201);
      incidentKey = opened.body.key as string;
      await app.api('POST', '/moratorium/api/v1/freezes', { account: 'acme', repo: 'api', reason: '<img src=x onerror=alert(2)>' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await app?.stop();
      await fake?.stop();
    });

    it('signs in with the token and shows the incident title as text, running no script', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const dialogs: string[] = [];
      const problems: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));

      await page.goto(`${app.url}/moratorium/`);
      expect(await page.locator('input[name="token"]').count()).toBe(1);
      expect(await page.locator('h2').count()).toBe(0);

      await page.fill('input[name="token"]', 'not-the-token');
      await page.click('button[type="submit"]');
      expect(await page.textContent('.error')).toContain('not valid');
      problems.length = 0; // the 401 of that sign-in is logged as a console error

      await page.fill('input[name="token"]', app.apiToken);
      await Promise.all([page.waitForURL(`${app.url}/moratorium/`), page.click('button[type="submit"]')]);
      await page.waitForSelector('#incidents');

      const cell = page.locator('#incidents td.title').first();
      expect(await cell.evaluate((el) => el.firstChild?.textContent?.trim())).toBe(TITLE);
      expect(await page.locator('#incidents').textContent()).toContain(incidentKey);
      expect(await page.locator('#freezes').textContent()).toContain('<img src=x onerror=alert(2)>');
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('#freezes img').count()).toBe(0);
      expect(dialogs).toEqual([]);
      // the page's own stylesheet is allowed by the CSP hash: nothing was refused
      expect(problems).toEqual([]);
      expect(await page.evaluate('getComputedStyle(document.querySelector("table")).borderCollapse')).toBe('collapse');

      const cookies = await context.cookies();
      expect(cookies).toEqual([expect.objectContaining({ name: 'moratorium_session', httpOnly: true, sameSite: 'Lax', path: '/moratorium' })]);
      expect(cookies[0]!.value).not.toContain(app.apiToken);
      expect(await page.evaluate('document.cookie')).toBe('');
      expect(page.url()).not.toContain(app.apiToken);

      await Promise.all([page.waitForURL(`${app.url}/moratorium/`), page.click('header button[type="submit"]')]);
      expect(await page.locator('input[name="token"]').count()).toBe(1);
      expect(await context.cookies()).toEqual([]);
      await context.close();
    });
  },
);
