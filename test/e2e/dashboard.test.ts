/**
 * The dashboard in headless Chromium against the real app: sign in with the token, see an incident
 * whose title is an HTML payload rendered as text (no script runs), and sign out; sign in with GitHub
 * (the fake's OAuth web flow), a write user refused on the page, a forged cross-site POST from another
 * origin that changes nothing, and a maintainer closing the incident from the page until the PR's gate
 * goes green in the fake. Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y
 * chromium`; .ci/run installs it): without it the tests skip loudly, or fail when
 * MORATORIUM_TEST_REQUIRE_SERVERS=1 (CI).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { expectFakeClean, REPO_ROOT, startApp, webhooks, type AppHandle } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const REQUIRE = process.env.MORATORIUM_TEST_REQUIRE_SERVERS === '1';
const TITLE = '<script>alert(1)</script> & "quotes"';
const LAUNCH = { executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] };

if (!HAVE_CHROMIUM) {
  console.warn(`\n!!! ${CHROMIUM} is missing: the dashboard's headless Chromium tests are SKIPPED (apt-get install -y chromium).${REQUIRE ? ' MORATORIUM_TEST_REQUIRE_SERVERS=1: they FAIL instead.' : ''}\n`);
}

const DAY = 86_400_000;
/** the windows the timeline must draw: one every night at 02:00 UTC, and one each weekend */
const WINDOWS = `windows:
  - name: "Nightly <batch>"
    cron: "0 2 * * *"
    duration: 1h
  - name: weekend
    cron: "0 18 * * FRI"
    duration: 63h
    mode: all
`;

/** the weekend starts (Fri 18:00 UTC, 63 h long) that overlap [from, to): computed here, by hand */
function weekendStarts(from: number, to: number): number[] {
  const out: number[] = [];
  for (let d = Math.floor((from - 3 * DAY) / DAY) * DAY; d < to; d += DAY) {
    const start = d + 18 * 3_600_000;
    if (new Date(d).getUTCDay() === 5 && start < to && start + 63 * 3_600_000 > from) out.push(start);
  }
  return out;
}

describe.runIf(!HAVE_CHROMIUM && REQUIRE)('dashboard in headless Chromium (required)', () => {
  it('needs Chromium', () => {
    throw new Error(`${CHROMIUM} is missing and MORATORIUM_TEST_REQUIRE_SERVERS=1: install it (apt-get install -y chromium)`);
  });
});

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
      fake.addRepo('acme', 'api', { files: { '.github/moratorium.yml': WINDOWS } });
      app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
      // the start-up reconcile records the installation and its repositories
      await app.waitForLog('reconcile done', 20_000);
      // gating a PR makes the app read (and keep) the repository's configuration, which the timeline draws
      const pr = fake.addPull('acme', 'api');
      expect((await app.send('pull_request', webhooks(fake).pullRequest('opened', 'acme', 'api', pr.number))).status).toBe(200);
      await fake.waitFor((f) => f.latestCheck('acme', 'api', pr.head.sha), 15_000, 'the check of the PR');
      const opened = await app.api('POST', '/moratorium/api/v1/incidents', { account: 'acme', severity: 'sev1', title: TITLE });
      expect(opened.status).toBe(201);
      incidentKey = opened.body.key as string;
      await app.api('POST', '/moratorium/api/v1/freezes', { account: 'acme', repo: 'api', reason: '<img src=x onerror=alert(2)>' });
      browser = await chromium.launch(LAUNCH);
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

      // the fortnight at a glance: the SVG has a bar per occurrence of each window, where its instant is
      const svg = page.locator('#timeline svg');
      expect(await svg.count()).toBe(1);
      const axis = await svg.evaluate((el) => ({ from: el.getAttribute('data-from')!, to: el.getAttribute('data-to')!, x0: el.getAttribute('data-chart-x0')!, w: el.getAttribute('data-chart-width')! }));
      const from = Date.parse(axis.from);
      const to = Date.parse(axis.to);
      expect(to - from).toBe(14 * DAY); // UTC: fourteen days of 24 hours
      expect(from % DAY).toBe(0);
      const nightly = page.locator('#timeline svg rect[data-kind="window"][data-window="Nightly <batch>"]');
      expect(await nightly.count()).toBe(14);
      const weekend = page.locator('#timeline svg rect[data-kind="window"][data-window="weekend"]');
      const starts = weekendStarts(from, to);
      expect(await weekend.evaluateAll((els) => els.map((e) => e.getAttribute('data-start')))).toEqual(starts.map((t) => new Date(t).toISOString()));
      expect(await page.locator('#timeline svg rect[data-kind="freeze"]').count()).toBe(1); // the manual freeze, until lifted
      expect(await page.locator('#timeline svg rect[data-kind="freeze"]').getAttribute('data-open-ended')).toBe('true');
      expect(await page.locator('#timeline svg rect[data-kind="incident"]').count()).toBe(1);
      expect(await page.locator('#timeline svg text').allTextContents()).toContain('window "Nightly <batch>"');

      // and the picture shows them there: the screenshot's pixels at the x the data gives are the bar's colour
      const box = (await svg.boundingBox())!;
      const png = await svg.screenshot();
      const scale = box.width / 1100; // the viewBox is 1100 wide
      const xAt = (t: number) => (Number(axis.x0) + ((t - from) / (to - from)) * Number(axis.w)) * scale;
      const firstNight = await nightly.first().evaluate((el) => ({ start: el.getAttribute('data-start')!, y: Number(el.getAttribute('y')), h: Number(el.getAttribute('height')) }));
      const yMid = (firstNight.y + firstNight.h / 2) * scale;
      const nightX = xAt(Date.parse(firstNight.start));
      const probe = await browser.newPage();
      // decoded by the browser itself (a canvas on a blank page): no PNG library needed
      const points = [[nightX + 2, yMid], [nightX - 4, yMid], [xAt(Date.parse(firstNight.start) + 3_600_000) + 4, yMid]];
      const pixels = (await probe.evaluate(`(async () => {
        const img = new Image();
        img.src = 'data:image/png;base64,${png.toString('base64')}';
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return ${JSON.stringify(points)}.map(([x, y]) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)));
      })()`)) as number[][];
      await probe.close();
      const near = (rgb: number[], hex: string) => rgb.every((c, i) => Math.abs(c - parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16)) <= 24);
      expect(near(pixels[0]!, '#3d7fd9'), `the pixel inside the first nightly bar is ${pixels[0]}`).toBe(true);
      expect(near(pixels[1]!, '#3d7fd9'), `the pixel before it is ${pixels[1]}`).toBe(false);
      expect(near(pixels[2]!, '#3d7fd9'), `the pixel after its hour is ${pixels[2]}`).toBe(false);
      if (process.env.MORATORIUM_WRITE_SCREENSHOTS === '1') {
        const { writeFileSync, mkdirSync } = await import('node:fs');
        mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true });
        writeFileSync(new URL('../../docs/timeline.png', import.meta.url), png);
      }

      // the viewer's time zone: the axis starts at that zone's midnight
      await page.goto(`${app.url}/moratorium/?tz=Asia%2FKolkata`);
      const kolkata = Date.parse((await page.locator('#timeline svg').getAttribute('data-from'))!);
      expect((kolkata + 5.5 * 3_600_000) % DAY).toBe(0);
      expect(await page.locator('#timeline input[name="tz"]').inputValue()).toBe('Asia/Kolkata');
      await page.goto(`${app.url}/moratorium/?tz=${encodeURIComponent('<b>Mars/Olympus</b>')}`);
      expect(await page.locator('#timeline .error').textContent()).toContain('Unknown time zone "<b>Mars/Olympus</b>": showing UTC');
      expect(await page.locator('#timeline b').count()).toBe(0);
      await page.goto(`${app.url}/moratorium/`);

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

describe.skipIf(!HAVE_CHROMIUM)(
  HAVE_CHROMIUM ? 'acting from the dashboard in headless Chromium' : `acting from the dashboard in headless Chromium (SKIPPED: ${CHROMIUM} is missing; apt-get install -y chromium)`,
  () => {
    const OWNER = 'acme';
    const REPO = 'api';
    let fake: FakeGitHub;
    let app: AppHandle;
    let browser: Browser;
    let evil: Server;
    let evilUrl: string;
    let incident: number;
    let pulls: Array<Record<string, any>>;

    beforeAll(async () => {
      fake = await FakeGitHub.start();
      fake.addInstallation({ id: 7, account: OWNER });
      fake.addRepo(OWNER, REPO);
      fake.setPermission(OWNER, REPO, 'maya', 'maintain');
      fake.setPermission(OWNER, REPO, 'walt', 'write');
      app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off', GITHUB_CLIENT_ID: fake.oauthClient.clientId, GITHUB_CLIENT_SECRET: fake.oauthClient.clientSecret } });
      await app.waitForLog('reconcile done', 20_000);
      const opened = await app.api('POST', '/moratorium/api/v1/incidents', { account: OWNER, repo: REPO, severity: 'sev1', title: 'Checkout is down' });
      expect(opened.status).toBe(201);
      incident = opened.body.id as number;
      pulls = [fake.addPull(OWNER, REPO, { title: 'Feature one' }), fake.addPull(OWNER, REPO, { title: 'Feature two' })];
      for (const pr of pulls) {
        expect((await app.send('pull_request', webhooks(fake).pullRequest('opened', OWNER, REPO, pr.number))).status).toBe(200);
        await fake.waitFor((f) => f.latestCheck(OWNER, REPO, pr.head.sha)?.conclusion === 'failure', 10_000, `#${pr.number} blocked by the incident`);
      }
      // a page of another origin (another port of 127.0.0.1: same site, so the Lax cookie IS sent;
      // only the Origin check and the CSRF token stand in the way) that posts to the dashboard
      evil = createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://x');
        const csrf = u.searchParams.get('csrf') ?? '';
        const html = `<!doctype html><form id="f" method="post" action="${app.url}/moratorium/dashboard/act"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="incident-close"><input type="hidden" name="id" value="${incident}"><input type="hidden" name="note" value="forged"><button id="go" type="submit">Win a prize</button></form>`;
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(html);
      });
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
      browser = await chromium.launch(LAUNCH);
    }, 90_000);

    afterEach(() => {
      expectFakeClean(fake);
    });

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => (evil ? evil.close(resolve) : resolve(undefined)));
      await app?.stop();
      await fake?.stop();
    });

    /** A new browser profile signed in with GitHub as `login`, on the dashboard. */
    async function signedIn(login: string): Promise<Page> {
      fake.signInAs(login);
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${app.url}/moratorium/`);
      await Promise.all([page.waitForURL(`${app.url}/moratorium/`), page.click('#sign-in-github')]);
      expect(await page.textContent('#login')).toBe(login);
      return page;
    }

    const phase = async () => (await app.api('GET', `/moratorium/api/v1/incidents/${incident}`)).body.phase as string;

    it('refuses a write user on the page, saying which permission is needed', async () => {
      const page = await signedIn('walt');
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'moratorium_session')).toEqual(expect.objectContaining({ httpOnly: true, sameSite: 'Lax', path: '/moratorium' }));
      await page.fill(`#incidents input[aria-label="note for close INC-${incident}"]`, 'all good?');
      await Promise.all([page.waitForLoadState(), page.click(`#incidents button[value="incident-close"][data-incident="INC-${incident}"]`)]);
      expect(await page.textContent('#outcome')).toContain('Refused: this needs maintain or higher (the `lift` permission of acme/api\'s configuration); your role on acme/api is write. Nothing was changed.');
      expect(await phase()).toBe('open');
      await page.context().close();
    });

    it('refuses a forged cross-site POST from another origin, even one carrying the session\'s CSRF token, and changes nothing', async () => {
      const page = await signedIn('maya');
      const csrf = await page.getAttribute('#open-incident input[name="csrf"]', 'value');
      for (const token of ['', csrf!]) {
        await page.goto(`${evilUrl}/?csrf=${encodeURIComponent(token)}`);
        const answer = page.waitForResponse((r) => r.url() === `${app.url}/moratorium/dashboard/act`);
        await page.click('#go');
        expect((await answer).status()).toBe(403);
        await page.waitForSelector('.error');
        expect(await page.textContent('.error')).toContain('This form must be sent from the Moratorium dashboard itself');
      }
      expect(await phase()).toBe('open');
      const audit = (await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}`)).body.entries as Array<Record<string, unknown>>;
      expect(audit.filter((e) => e.source === 'dashboard')).toEqual([]);
      await page.context().close();
    });

    it('lets a maintainer close the incident from the page, and the PRs\' gates go green in the fake', async () => {
      const page = await signedIn('maya');
      if (process.env.MORATORIUM_UPDATE_SCREENSHOT === '1') {
        // the README's picture of the dashboard, made here: `MORATORIUM_UPDATE_SCREENSHOT=1 npx vitest run --project sqlite test/e2e/dashboard.test.ts`
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.screenshot({ path: `${REPO_ROOT}/docs/dashboard.png`, fullPage: true });
      }
      await page.fill(`#incidents input[aria-label="note for close INC-${incident}"]`, 'postmortem filed');
      await Promise.all([page.waitForLoadState(), page.click(`#incidents button[value="incident-close"][data-incident="INC-${incident}"]`)]);
      expect(await page.textContent('#outcome')).toBe(`INC-${incident} closed: its moratorium has ended.`);
      expect(await page.locator('#incidents').textContent()).toContain('No open or resolved incident.');
      expect(await page.locator('#audit').textContent()).toMatch(/maya \(dashboard\)incident\.closeINC-\d+postmortem filed/);
      for (const pr of pulls) await fake.waitFor((f) => f.latestCheck(OWNER, REPO, pr.head.sha)?.conclusion === 'success', 15_000, `#${pr.number} green`);
      expect(await phase()).toBe('closed');
      await page.context().close();
    });
  },
);
