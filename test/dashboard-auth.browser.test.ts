/**
 * Who may see what, in Chromium, against a running stack whose counts are not public (auth.public none, as in
 * production): the page asks for a token and fetches no counts without one; a bad token gets a clear message and
 * is not kept; a viewer token for one zone shows that zone only (live, after a reload too, CSV included) and is
 * sent as a header, never in the address bar; signing out forgets it; a token revoked while the page is open
 * signs the reader out. Tokens are made through the running aggregator's own token store.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACTS, gotoLocked, newContext, scrollWidth, SIGNIN_NEEDED, signIn, submitToken, text, unexpected, waitForCharts, watch, type PageGlobals,
} from './helpers/dashboard-page.ts';
import { dashboardForSuite, townStack } from './helpers/dashboard-suite.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const NO_PROBLEMS = { console: [], errors: [], requests: [] };
/** Chromium logs every 4xx answer to fetch or EventSource as a console error; these are the expected ones. */
const CONSOLE_401 = /status of 401/;

describe.skipIf(!hasChromium)('dashboard sign-in in Chromium (Debian package "chromium")', () => {
  const dashboard = dashboardForSuite(townStack({ overrides: { auth: { public: { zones: 'none', sites: 'none' } } } }));

  it('asks for a token and fetches no counts without one; the privacy page stays public', async () => {
    expect((await fetch(`${dashboard.stack.baseUrl}/api/v1/zones`)).status).toBe(401); // the stack is what this test is about
    const context = await newContext(dashboard.browser, { locale: 'en-GB' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      const apiPaths: string[] = [];
      page.on('request', (req) => {
        const { pathname } = new URL(req.url());
        if (pathname.startsWith('/api/')) apiPaths.push(pathname);
      });
      await gotoLocked(page, `${dashboard.stack.baseUrl}/?lang=en`);
      expect(await text(page, '.signin-lead')).toBe('This Passant server shows counts only to people with a token. Sign in with the token you were given.');
      expect(await page.getAttribute('.status', 'data-state')).toBe('locked');
      expect(await page.getAttribute('#token-input', 'type')).toBe('password');
      expect(await page.locator('article.card').count()).toBe(0);
      expect(await page.isHidden('.controls')).toBe(true);
      expect(await page.isHidden('.account-signin')).toBe(true); // the panel is open already
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-auth-needed-en.png'), fullPage: true });

      await page.click('a.tab[data-tab="privacy"]');
      await page.waitForSelector('.schema[data-fields]', { timeout: 15_000 });
      expect(await text(page, '.fact[data-fact="k"] .fact-value')).toBe('k = 2');
      expect(await text(page, '.fact[data-fact="public"]')).toMatch(/Zones\s*none\s*Sites\s*none/);
      expect([...new Set(apiPaths)].sort()).toEqual(['/api/v1/me', '/api/v1/privacy']); // never a count without a token
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('says clearly when a token is wrong, and keeps nothing of it', async () => {
    const context = await newContext(dashboard.browser, { locale: 'nl-NL' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await gotoLocked(page, `${dashboard.stack.baseUrl}/`);

      // Not even the shape of a token: refused here, nothing is sent.
      await submitToken(page, 'mijn token');
      await page.waitForSelector('.signin-message[data-kind="error"]');
      expect(await text(page, '.signin-message')).toBe('Dat lijkt geen token: plak het in één stuk, zonder spaties of aanhalingstekens.');

      // The shape of a token, but unknown to the server.
      const bad = `pst_${'x'.repeat(43)}`;
      const answered = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/me' && res.status() === 401);
      await submitToken(page, bad);
      await answered;
      await page.waitForFunction(() => /niet geldig/.test((globalThis as unknown as PageGlobals).document.querySelector('.signin-message')?.textContent ?? ''));
      expect(await text(page, '.signin-message')).toBe(
        'Dit token is niet geldig: het is onbekend, ingetrokken of verkeerd overgenomen. Controleer het en probeer opnieuw.',
      );
      expect(await page.getAttribute('.signin-message', 'data-kind')).toBe('error');
      expect(await page.locator('article.card').count()).toBe(0);
      expect(page.url()).not.toContain(bad);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('passant.token'))).toBeNull();
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-auth-bad-token-nl.png'), fullPage: true });
      expect(unexpected(problems, { console: [CONSOLE_401], requests: [/^\/api\/v1\/me answered 401$/] })).toEqual(NO_PROBLEMS);
      expect(problems.requests).toEqual(['/api/v1/me answered 401']);
    } finally {
      await context.close();
    }
  });

  it('shows a viewer only its zone, live, sends the token as a header, keeps it for the tab only, and forgets it on sign-out', async () => {
    const { token, info } = dashboard.stack.aggregator.tokens.create({ role: 'viewer', zones: ['markt'], name: 'shop 12' });
    const context = await newContext(dashboard.browser, { locale: 'en-GB' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      const requests: Request[] = [];
      page.on('request', (req) => requests.push(req));
      await gotoLocked(page, `${dashboard.stack.baseUrl}/?lang=en`);
      await signIn(page, `  ${token}  `); // pasted with white space around it
      await waitForCharts(page, 1);

      expect(await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-zone-id') ?? c.getAttribute('data-site-id')))).toEqual([
        'markt',
      ]);
      expect(await text(page, 'article.zone h2')).toBe('Markt');
      expect(await page.isHidden('.site-choice')).toBe(true); // a viewer of one zone does not read its site
      expect(await text(page, '.account-role')).toBe('Signed in: Viewer · shop 12');
      expect(await page.isHidden('.signin')).toBe(true);
      expect(await page.isHidden('a.tab[data-tab="sensors"]')).toBe(true);
      await page.waitForSelector('article.zone .compare[data-loaded="true"]', { timeout: 15_000 });
      await page.waitForSelector('article.zone .heatmap[data-loaded="true"]', { timeout: 15_000 });
      await page.waitForSelector('.status[data-state="live"]', { timeout: 15_000 }); // the event stream took the token

      // The token: a header on API calls, access_token only on the event stream, never in the address bar.
      expect(page.url()).not.toContain(token);
      const api = requests.filter((r) => new URL(r.url()).pathname.startsWith('/api/v1/') && new URL(r.url()).pathname !== '/api/v1/events');
      expect(api.length).toBeGreaterThan(3);
      for (const req of api) {
        expect(req.url(), 'no token in an API URL').not.toContain(token);
      }
      const afterSignIn = api.filter((r) => r.headers().authorization !== undefined);
      expect(afterSignIn.map((r) => new URL(r.url()).pathname)).toEqual(
        expect.arrayContaining(['/api/v1/me', '/api/v1/zones', '/api/v1/zones/markt/series', '/api/v1/zones/markt/compare', '/api/v1/zones/markt/profile']),
      );
      for (const req of afterSignIn) expect(req.headers().authorization).toBe(`Bearer ${token}`);
      const events = requests.filter((r) => new URL(r.url()).pathname === '/api/v1/events');
      expect(new URL(events.at(-1)!.url()).searchParams.get('access_token')).toBe(token);

      // For this tab only: sessionStorage, not localStorage.
      const stored = () =>
        page.evaluate(() => {
          const g = globalThis as unknown as PageGlobals;
          const local: string[] = [];
          for (let i = 0; i < g.localStorage.length; i++) local.push(g.localStorage.getItem(g.localStorage.key(i) ?? '') ?? '');
          return { session: g.sessionStorage.getItem('passant.token'), local };
        });
      expect(await stored()).toEqual({ session: token, local: ['en'] });

      // The CSV goes through fetch with the header: the link itself carries no token.
      const card = page.locator('article.zone[data-zone-id="markt"]');
      expect(await card.locator('a.csv-button').getAttribute('href')).not.toContain(token);
      const [download] = await Promise.all([page.waitForEvent('download'), card.locator('a.csv-button').click()]);
      const lines = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
      expect(lines[0]).toBe('zone,name,radio,time,unix,devices,suppressed');
      expect(lines.length - 1).toBe(120);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-auth-viewer-en.png'), fullPage: true });

      // A reload keeps the reader signed in (same tab).
      await page.reload();
      await waitForCharts(page, 1);
      expect(await text(page, '.account-role')).toBe('Signed in: Viewer · shop 12');

      await page.click('.account-signout');
      await page.waitForSelector(SIGNIN_NEEDED, { timeout: 15_000 });
      expect(await page.locator('article.card').count()).toBe(0);
      expect(await stored()).toEqual({ session: null, local: ['en'] });
      expect(dashboard.stack.aggregator.tokens.get(info.id)?.revokedAt).toBeNull(); // signing out does not revoke
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  for (const view of [
    { lang: 'en', locale: 'en-GB', width: 1280, height: 800, role: 'Signed in: Viewer · thuis' },
    { lang: 'nl', locale: 'nl-NL', width: 390, height: 844, role: 'Ingelogd: Kijker · thuis' },
  ] as const) {
    it(`remembers the token on this device only when asked, and forgets it everywhere on sign-out (${view.lang}, ${view.width} px)`, async () => {
      const { token } = dashboard.stack.aggregator.tokens.create({ role: 'viewer', zones: ['markt'], name: 'thuis' });
      const context = await newContext(dashboard.browser, { locale: view.locale, width: view.width, height: view.height });
      const stored = (page: Page) =>
        page.evaluate(() => {
          const g = globalThis as unknown as PageGlobals;
          return { session: g.sessionStorage.getItem('passant.token'), local: g.localStorage.getItem('passant.token') };
        });
      const signInOn = async (page: Page, remember: boolean) => {
        await gotoLocked(page, `${dashboard.stack.baseUrl}/?lang=${view.lang}`);
        expect(await page.isChecked('#token-remember')).toBe(false); // never ticked for the reader
        expect(await text(page, 'label[for="token-remember"]')).toBe(view.lang === 'nl' ? 'Onthoud mij op dit apparaat' : 'Remember me on this device');
        await signIn(page, token, { remember, role: 'viewer' });
        expect(await text(page, '.account-role')).toBe(view.role);
      };
      const isSignedIn = async (page: Page) => {
        await page.goto(`${dashboard.stack.baseUrl}/?lang=${view.lang}`);
        await page.waitForSelector('.account-role[data-role="viewer"], .signin[data-needed="true"]:not([hidden])', { timeout: 15_000 });
        return page.isVisible('.account-role[data-role="viewer"]');
      };
      try {
        // Not ticked: this tab only; another tab of the same browser asks again.
        const first = await context.newPage();
        const problems = watch(first, dashboard.stack.baseUrl);
        await signInOn(first, false);
        expect(await stored(first)).toEqual({ session: token, local: null });
        const other = await context.newPage();
        expect(await isSignedIn(other)).toBe(false);
        await other.close();
        await first.click('.account-signout');
        await first.waitForSelector(SIGNIN_NEEDED, { timeout: 15_000 });

        // Ticked: kept on this device (localStorage only), so a new tab is signed in at once.
        await signInOn(first, true);
        expect(await stored(first)).toEqual({ session: null, local: token });
        expect(await scrollWidth(first)).toBeLessThanOrEqual(view.width);
        const second = await context.newPage();
        const problems2 = watch(second, dashboard.stack.baseUrl);
        expect(await isSignedIn(second)).toBe(true);
        expect(await text(second, '.account-role')).toBe(view.role);

        // Signing out forgets it in the tab and on the device.
        await second.click('.account-signout');
        await second.waitForSelector(SIGNIN_NEEDED, { timeout: 15_000 });
        expect(await stored(second)).toEqual({ session: null, local: null });
        expect(await isSignedIn(first)).toBe(false);
        expect(await stored(first)).toEqual({ session: null, local: null });
        expect(unexpected(problems, { console: [CONSOLE_401] })).toEqual(NO_PROBLEMS);
        expect(unexpected(problems2, { console: [CONSOLE_401] })).toEqual(NO_PROBLEMS);
      } finally {
        await context.close();
      }
    });
  }

  it('on a phone, signs in and fits the screen', async () => {
    const { token } = dashboard.stack.aggregator.tokens.create({ role: 'viewer', zones: ['winkelstraat'], sites: ['centrum'], name: 'winkeliers' });
    const context = await newContext(dashboard.browser, { locale: 'nl-NL', width: 390, height: 844 });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await gotoLocked(page, `${dashboard.stack.baseUrl}/`);
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-auth-needed-phone-nl.png'), fullPage: true });
      await signIn(page, token);
      await waitForCharts(page, 3);
      // A viewer with the site on its token reads the site and, with it, every zone of the site (a site total is
      // never a narrower right than its zones: see aggregator/src/auth/access.ts).
      expect(await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-site-id') ?? c.getAttribute('data-zone-id')))).toEqual([
        'centrum',
        'winkelstraat',
        'markt',
      ]);
      expect(await text(page, '.account-role')).toBe('Ingelogd: Kijker · winkeliers');
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-auth-viewer-phone-nl.png'), fullPage: true });
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('signs the reader out when the token is revoked while the page is open', async () => {
    const { token, info } = dashboard.stack.aggregator.tokens.create({ role: 'viewer', zones: ['winkelstraat'], name: 'to be revoked' });
    const context = await newContext(dashboard.browser, { locale: 'en-GB' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await gotoLocked(page, `${dashboard.stack.baseUrl}/?lang=en`);
      await signIn(page, token);
      await waitForCharts(page, 1);
      await page.waitForSelector('.status[data-state="live"]', { timeout: 15_000 });

      expect(dashboard.stack.aggregator.tokens.revoke(info.id)).toBe('revoked');
      // The server ends the event stream of a revoked token; the page then asks again and is refused.
      await page.waitForSelector('.signin-message[data-kind="error"]', { timeout: 30_000 });
      expect(await text(page, '.signin-message')).toBe('Your token is no longer accepted (it may have been revoked). You have been signed out.');
      await page.waitForSelector(SIGNIN_NEEDED, { timeout: 15_000 });
      expect(await page.locator('article.card').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('passant.token'))).toBeNull();
      expect(unexpected(problems, { console: [CONSOLE_401, /EventSource/], requests: [/^\/api\/v1\/\S+ answered 401$/] })).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });
});
