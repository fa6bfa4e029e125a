/**
 * Tokens and invitations in the dashboard, in Chromium, against a running stack whose counts are not public: an
 * admin makes a viewer token on the Tokens page, its secret is shown once and works in a fresh browser, and
 * revoking it in the page stops it at once; an admin makes an invitation, its link (code in the fragment) signs a
 * fresh browser in once, for that zone only, and is taken out of the address bar; a second opening is refused
 * with a clear message and signs nothing in; a viewer has no Tokens tab; axe-core finds no serious or critical
 * violation on the page. Dutch and English; the invitation flow at desktop and phone size.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS, gotoLocked, newContext, scrollWidth, seriousAxeProblems, SIGNIN_NEEDED, signIn, text, unexpected, waitForCharts, watch, type PageGlobals,
} from './helpers/dashboard-page.ts';
import { dashboardForSuite, townStack } from './helpers/dashboard-suite.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const NO_PROBLEMS = { console: [], errors: [], requests: [] };
/** Chromium logs every 4xx answer as a console error; a refused invitation (410) is expected where it is tested. */
const CONSOLE_4XX = /status of 4\d\d/;

interface Stored {
  session: string | null;
  local: string | null;
}

function stored(page: Page): Promise<Stored> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    return { session: g.sessionStorage.getItem('passant.token'), local: g.localStorage.getItem('passant.token') };
  });
}

async function inputValue(page: Page, selector: string): Promise<string> {
  return page.locator(selector).inputValue();
}

describe.skipIf(!hasChromium)('dashboard tokens and invitations in Chromium (Debian package "chromium")', () => {
  const dashboard = dashboardForSuite(townStack({ overrides: { auth: { public: { zones: 'none', sites: 'none' } } } }));
  let adminToken: string;

  beforeAll(() => {
    adminToken = dashboard.token({ role: 'admin', name: 'gemeente' });
  });

  /** Signs in on a locked page with `token` (pasted in the sign-in panel), at `hash`. */
  async function signInAt(page: Page, token: string, lang: 'nl' | 'en', hash = ''): Promise<void> {
    await gotoLocked(page, `${dashboard.stack.baseUrl}/?lang=${lang}${hash}`);
    await signIn(page, token);
  }

  /** An admin on the Tokens page, both lists loaded and the zones to choose from there. */
  async function openTokensPage(context: BrowserContext, lang: 'nl' | 'en'): Promise<Page> {
    const page = await context.newPage();
    await signInAt(page, adminToken, lang, '#tokens');
    await page.waitForSelector('#page-tokens:not([hidden]) .token-table tbody tr', { timeout: 15_000 });
    await page.waitForSelector('#token-zone-markt', { timeout: 15_000 });
    return page;
  }

  it('lets an admin make a viewer token shown once, which works in a fresh browser until it is revoked in the page', async () => {
    const context = await newContext(dashboard.browser, { locale: 'en-GB' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: dashboard.stack.baseUrl });
    const fresh = await newContext(dashboard.browser, { locale: 'en-GB' });
    try {
      const admin = await openTokensPage(context, 'en');
      const problems = watch(admin, dashboard.stack.baseUrl);
      expect(await admin.isVisible('a.tab[data-tab="tokens"]')).toBe(true);
      expect(await text(admin, 'a.tab[data-tab="tokens"]')).toBe('Tokens');
      expect(await text(admin, '#page-tokens .panel-title')).toBe('Tokens and invitations');
      // The admin's own token is listed (never a secret: the list has none).
      expect(await text(admin, '.token-table tr[data-role="admin"] th')).toBe('gemeente');
      expect(await admin.locator('.token-table').textContent()).not.toContain(adminToken);

      // A viewer token with nothing to read is refused here, before anything is sent.
      await admin.selectOption('#token-role', 'viewer');
      await admin.fill('#token-name', 'Bakkerij');
      await admin.click('#token-form button[type="submit"]');
      await admin.waitForSelector('#token-new-message[data-kind="problem"]');
      expect(await text(admin, '#token-new-message')).toBe('Choose at least one zone, site or owner label.');

      // Admin and privacy tokens are not limited to zones: the zone choice goes away for them.
      await admin.selectOption('#token-role', 'privacy');
      expect(await admin.isHidden('#token-scope')).toBe(true);
      await admin.selectOption('#token-role', 'viewer');
      expect(await admin.isVisible('#token-scope')).toBe(true);

      await admin.check('#token-zone-markt');
      const made = admin.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/tokens' && res.request().method() === 'POST');
      await admin.click('#token-form button[type="submit"]');
      expect((await made).status()).toBe(201);
      await admin.waitForSelector('#token-secret:not([hidden])');
      const secret = await inputValue(admin, '#token-secret-value');
      expect(secret).toMatch(/^pst_[A-Za-z0-9_-]{43}$/);
      expect(await text(admin, '#token-secret-title')).toBe('New token for Bakkerij: copy it now');
      expect(await text(admin, '#token-secret-note')).toBe(
        'This is the only time this token is shown. Copy it and hand it over safely; if it is lost, make a new one and revoke this one.',
      );
      await admin.click('#token-secret .once-copy');
      await admin.waitForSelector('#token-secret .once-copied[data-copied="true"]');
      expect(await text(admin, '#token-secret .once-copied')).toBe('Copied.');
      expect(await admin.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toBe(secret);

      // The list shows it, with what it reads; the secret is nowhere but its one field.
      const row = admin.locator('.token-table tr[data-state="active"]', { hasText: 'Bakkerij' });
      await row.waitFor({ timeout: 15_000 });
      expect(await row.locator('td[data-label="Role"]').textContent()).toBe('Viewer');
      expect(await row.locator('td[data-label="Reads"]').textContent()).toBe('zones: Markt');
      expect(await row.locator('td[data-label="Last used"]').textContent()).toBe('never');
      expect(await row.locator('td[data-label="Valid until"]').textContent()).toBe('no end');
      const tokenId = await row.getAttribute('data-token-id');
      expect(dashboard.stack.aggregator.tokens.get(tokenId!)).toMatchObject({ role: 'viewer', zones: ['markt'], name: 'Bakkerij', revokedAt: null });
      expect(admin.url()).not.toContain(secret);
      expect(Object.values(await stored(admin))).not.toContain(secret);
      await admin.screenshot({ path: path.join(ARTIFACTS, 'dashboard-tokens-secret-en.png'), fullPage: true });

      // The secret works in a fresh browser: that zone only.
      const viewer = await fresh.newPage();
      const viewerProblems = watch(viewer, dashboard.stack.baseUrl);
      await signInAt(viewer, secret, 'en');
      await waitForCharts(viewer, 1);
      expect(await viewer.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-zone-id') ?? c.getAttribute('data-site-id')))).toEqual(['markt']);
      expect(await text(viewer, '.account-role')).toBe('Signed in: Viewer · Bakkerij');
      expect(await viewer.isHidden('a.tab[data-tab="tokens"]')).toBe(true);
      await viewer.waitForSelector('.status[data-state="live"]', { timeout: 15_000 });

      // Hidden when done: the field forgets it.
      await admin.click('#token-secret .once-done');
      expect(await admin.isHidden('#token-secret')).toBe(true);
      expect(await inputValue(admin, '#token-secret-value')).toBe('');

      // Its last use shows once the list is loaded again.
      await admin.click('a.tab[data-tab="overview"]');
      await admin.click('a.tab[data-tab="tokens"]');
      await admin.waitForFunction(
        (id) => {
          const cell = (globalThis as unknown as PageGlobals).document.querySelector(`.token-table tr[data-token-id="${id}"] td[data-label="Last used"]`);
          return cell !== null && cell.textContent !== 'never';
        },
        tokenId,
        { timeout: 15_000 },
      );

      // Revoking asks first; "Keep it" keeps it.
      await row.locator('.tok-revoke').click();
      expect(await text(admin, '.tok-confirm')).toBe('Revoke “Bakkerij”? It stops working at once, also where it is open now. This cannot be undone.');
      await admin.locator('.tok-revoke-no').click();
      expect(await admin.locator('.tok-confirm').count()).toBe(0);
      expect(dashboard.stack.aggregator.tokens.get(tokenId!)?.revokedAt).toBeNull();
      await row.locator('.tok-revoke').click();
      const revoked = admin.waitForResponse((res) => new URL(res.url()).pathname === `/api/v1/tokens/${tokenId}` && res.request().method() === 'DELETE');
      await admin.locator('.tok-revoke-yes').click();
      expect((await revoked).status()).toBe(200);
      await admin.waitForSelector(`.token-table tr[data-token-id="${tokenId}"][data-state="revoked"]`, { timeout: 15_000 });
      expect(await text(admin, '#token-list-message')).toBe('Token “Bakkerij” has been revoked.');
      expect(await admin.locator(`.token-table tr[data-token-id="${tokenId}"] td[data-label="Status"]`).textContent()).toMatch(/^revoked /);
      expect(await admin.locator(`.token-table tr[data-token-id="${tokenId}"] .tok-revoke`).count()).toBe(0);

      // It stops working at once: the open page is signed out, the API refuses it.
      await viewer.waitForSelector('.signin-message[data-kind="error"]', { timeout: 30_000 });
      expect(await text(viewer, '.signin-message')).toBe('Your token is no longer accepted (it may have been revoked). You have been signed out.');
      expect(await viewer.locator('article.card').count()).toBe(0);
      expect((await fetch(`${dashboard.stack.baseUrl}/api/v1/zones`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      expect(unexpected(viewerProblems, { console: [CONSOLE_4XX, /EventSource/], requests: [/^\/api\/v1\/\S+ answered 401$/] })).toEqual(NO_PROBLEMS);
    } finally {
      await fresh.close();
      await context.close();
    }
  });

  for (const view of [
    {
      lang: 'en',
      locale: 'en-GB',
      width: 1280,
      height: 800,
      remember: false,
      texts: {
        role: 'Signed in: Viewer · Winkel en',
        signedIn: 'You are signed in with your invitation. Its code has been removed from the address bar; the link cannot be used again.',
        used: 'This invitation has been used already: each link signs in only once. Ask whoever sent it for a new one.',
        open: 'not used yet',
        usedState: /^used /,
      },
    },
    {
      lang: 'nl',
      locale: 'nl-NL',
      width: 390,
      height: 844,
      remember: true,
      texts: {
        role: 'Ingelogd: Kijker · Winkel nl',
        signedIn: 'U bent ingelogd met uw uitnodiging. De code is uit de adresbalk gehaald; de link werkt niet nog een keer.',
        used: 'Deze uitnodiging is al gebruikt: elke link logt maar één keer in. Vraag de afzender om een nieuwe.',
        open: 'nog niet gebruikt',
        usedState: /^gebruikt /,
      },
    },
  ] as const) {
    it(`makes an invitation link that signs a fresh browser in once, for its zone only (${view.lang}, ${view.width} px)`, async () => {
      const adminContext = await newContext(dashboard.browser, { locale: view.locale, width: view.width, height: view.height });
      const first = await newContext(dashboard.browser, { locale: view.locale, width: view.width, height: view.height });
      const second = await newContext(dashboard.browser, { locale: view.locale, width: view.width, height: view.height });
      try {
        const admin = await openTokensPage(adminContext, view.lang);
        const problems = watch(admin, dashboard.stack.baseUrl);
        await admin.fill('#invite-name', `Winkel ${view.lang}`);
        await admin.check('#invite-zone-winkelstraat');
        await admin.fill('#invite-days', '3');
        await admin.click('#invite-form button[type="submit"]');
        await admin.waitForSelector('#invite-link:not([hidden])');
        const link = await inputValue(admin, '#invite-link-value');
        expect(link).toMatch(new RegExp(`^${dashboard.stack.baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/#invite=inv_[A-Za-z0-9_-]{43}$`));
        const inv = admin.locator('.invite-table tr', { hasText: `Winkel ${view.lang}` });
        await inv.waitFor({ timeout: 15_000 });
        expect(await inv.getAttribute('data-state')).toBe('open');
        expect(await inv.locator('td[data-label]').last().textContent()).toBe(view.texts.open);
        expect(await scrollWidth(admin)).toBeLessThanOrEqual(view.width);
        await admin.screenshot({ path: path.join(ARTIFACTS, `dashboard-tokens-invite-${view.lang}-${view.width}.png`), fullPage: true });

        // A fresh browser opens the link: the code leaves the address bar at once, and waits for a click.
        const page = await first.newPage();
        const pageProblems = watch(page, dashboard.stack.baseUrl);
        const redeems: string[] = [];
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/invitations/redeem') redeems.push(req.postData() ?? '');
        });
        await page.goto(link);
        await page.waitForSelector('.invitation:not([hidden])', { timeout: 15_000 });
        expect(page.url()).toBe(`${dashboard.stack.baseUrl}/`);
        expect(await page.isHidden('.signin')).toBe(true);
        expect(await page.isChecked('#invite-remember')).toBe(false);
        expect(redeems).toEqual([]);
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-tokens-invited-${view.lang}-${view.width}.png`), fullPage: true });
        if (view.remember) await page.check('#invite-remember');
        await page.click('.invitation-accept');
        await waitForCharts(page, 1);
        expect(await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-zone-id') ?? c.getAttribute('data-site-id')))).toEqual([
          'winkelstraat',
        ]);
        expect(await text(page, '.account-role')).toBe(view.texts.role);
        expect(await text(page, '.invitation-message')).toBe(view.texts.signedIn);
        expect(await page.isHidden('.invitation-accept')).toBe(true);
        expect(await page.isHidden('a.tab[data-tab="tokens"]')).toBe(true);
        expect(redeems).toHaveLength(1);
        expect(page.url()).not.toContain('invite');
        const kept = await stored(page);
        const token = kept.session ?? kept.local;
        expect(token).toMatch(/^pst_/);
        expect(kept).toEqual(view.remember ? { session: null, local: token } : { session: token, local: null });
        expect(await scrollWidth(page)).toBeLessThanOrEqual(view.width);
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-tokens-invite-signed-in-${view.lang}-${view.width}.png`), fullPage: true });
        await page.click('.invitation-close');
        expect(await page.isHidden('.invitation')).toBe(true);

        // The same link a second time: refused with a message, nothing signed in, nothing kept.
        const again = await second.newPage();
        const againProblems = watch(again, dashboard.stack.baseUrl);
        await again.goto(link);
        await again.waitForSelector('.invitation:not([hidden])', { timeout: 15_000 });
        const refused = again.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/invitations/redeem');
        await again.click('.invitation-accept');
        expect((await refused).status()).toBe(410);
        await again.waitForSelector('.invitation[data-state="refused"]');
        expect(await text(again, '.invitation-message')).toBe(view.texts.used);
        expect(await again.getAttribute('.invitation-message', 'data-kind')).toBe('error');
        expect(await again.isHidden('.invitation-accept')).toBe(true);
        await again.waitForSelector(SIGNIN_NEEDED, { timeout: 15_000 }); // the usual way in remains
        expect(await again.isVisible('.account-role')).toBe(false);
        expect(await again.locator('article.card').count()).toBe(0);
        expect(await stored(again)).toEqual({ session: null, local: null });
        expect(await scrollWidth(again)).toBeLessThanOrEqual(view.width);
        await again.screenshot({ path: path.join(ARTIFACTS, `dashboard-tokens-invite-used-${view.lang}-${view.width}.png`), fullPage: true });

        // The admin's list says it was used.
        await admin.click('a.tab[data-tab="overview"]');
        await admin.click('a.tab[data-tab="tokens"]');
        await admin.waitForSelector(`.invite-table tr[data-state="used"]:has-text("Winkel ${view.lang}")`, { timeout: 15_000 });
        expect(await inv.locator('td[data-label]').last().textContent()).toMatch(view.texts.usedState);
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
        expect(unexpected(pageProblems)).toEqual(NO_PROBLEMS);
        expect(unexpected(againProblems, { console: [/status of 410/], requests: [/^\/api\/v1\/invitations\/redeem answered 410$/] })).toEqual(NO_PROBLEMS);
      } finally {
        await second.close();
        await first.close();
        await adminContext.close();
      }
    });
  }

  it('refuses an unknown invitation code with a message, and signs nothing in', async () => {
    const context = await newContext(dashboard.browser, { locale: 'nl-NL' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/#invite=inv_${'A'.repeat(43)}`);
      await page.waitForSelector('.invitation:not([hidden])', { timeout: 15_000 });
      expect(page.url()).toBe(`${dashboard.stack.baseUrl}/`);
      expect(await text(page, '.invitation-note')).toBe('De uitnodigingscode is uit de adresbalk gehaald, zodat hij niet in uw geschiedenis of bladwijzers blijft staan.');
      expect(await seriousAxeProblems(page, '.invitation')).toEqual([]);
      await page.click('.invitation-accept');
      await page.waitForSelector('.invitation[data-state="refused"]');
      expect(await text(page, '.invitation-message')).toBe('Deze uitnodiging is onbekend. Controleer of de hele link is overgenomen, of vraag om een nieuwe.');
      expect(await stored(page)).toEqual({ session: null, local: null });
      expect(await page.locator('article.card').count()).toBe(0);
      expect(unexpected(problems, { console: [/status of 404/], requests: [/^\/api\/v1\/invitations\/redeem answered 404$/] })).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('shows a viewer no Tokens tab, and #tokens shows the overview instead', async () => {
    const { token } = dashboard.stack.aggregator.tokens.create({ role: 'viewer', zones: ['markt'], name: 'geen beheer' });
    const context = await newContext(dashboard.browser, { locale: 'nl-NL' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      const apiPaths: string[] = [];
      page.on('request', (req) => apiPaths.push(new URL(req.url()).pathname));
      await signInAt(page, token, 'nl', '#tokens');
      await waitForCharts(page, 1);
      expect(await page.isHidden('a.tab[data-tab="tokens"]')).toBe(true);
      expect(await page.isHidden('#page-tokens')).toBe(true);
      expect(await page.isVisible('#page-overview')).toBe(true);
      expect(apiPaths.filter((p) => p.startsWith('/api/v1/tokens') || p.startsWith('/api/v1/invitations'))).toEqual([]);
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  for (const view of [
    { lang: 'en', locale: 'en-GB', width: 1280, height: 800 },
    { lang: 'nl', locale: 'nl-NL', width: 390, height: 844 },
  ] as const) {
    it(`has no serious or critical axe violations on the Tokens page (${view.lang}, ${view.width} px)`, async () => {
      const context = await newContext(dashboard.browser, { locale: view.locale, width: view.width, height: view.height });
      try {
        const page = await openTokensPage(context, view.lang);
        const problems = watch(page, dashboard.stack.baseUrl);
        // With a secret on screen and a revocation being confirmed: every part of the page is there.
        await page.selectOption('#token-role', 'viewer');
        await page.check('#token-zone-winkelstraat');
        await page.click('#token-form button[type="submit"]');
        await page.waitForSelector('#token-secret:not([hidden])');
        await page.locator('.token-table tr[data-state="active"] .tok-revoke').last().click();
        await page.waitForSelector('.tok-confirm');
        expect(await seriousAxeProblems(page, '#page-tokens')).toEqual([]);
        expect(await scrollWidth(page)).toBeLessThanOrEqual(view.width);
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-tokens-page-${view.lang}-${view.width}.png`), fullPage: true });
        await page.locator('.tok-revoke-no').click();
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      } finally {
        await context.close();
      }
    });
  }
});
