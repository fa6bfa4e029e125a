/**
 * The public sensor register page of the transparency kit (`passant-aggregator kit`) in Chromium: served from the
 * kit's folder as a static site, once with a tile server this test runs on localhost and once with a tile URL
 * nobody answers. Either way every sensor is in the list and has its marker on the map; with tiles the map shows
 * them, without tiles the page says so. Screenshots go to test/artifacts/.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../aggregator/src/config.ts';
import { writeKit } from '../aggregator/src/kit/kit-command.ts';
import { ARTIFACTS, CHROMIUM_ARGS, newContext, unexpected, watch } from './helpers/dashboard-page.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');

/** A 1x1 PNG: what the tile server answers for every tile. */
const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const SENSORS = [
  { id: 's-001', lat: 52.3702, lon: 4.8952, location: 'Kalverstraat 1', activeUntil: '2027-12-31' },
  { id: 's-002', lat: 52.3712, lon: 4.8962 },
  { id: 's-003', lat: 52.3722, lon: 4.8992, activeUntil: '2027-06-30' },
];

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A static file server for the kit's folder. */
function serveDir(dir: string): http.RequestListener {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png' };
  return (req, res) => {
    const file = path.join(dir, path.normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  };
}

describe.skipIf(!hasChromium)('the public sensor register page in Chromium (Debian package "chromium")', () => {
  let browser: Browser;
  let tiles: { url: string; close: () => Promise<void> };
  const tileRequests: string[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    tiles = await listen((req, res) => {
      tileRequests.push(req.url ?? '');
      if (!/^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' }).end(TILE);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await tiles?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function openRegister(tileUrl: string, lang: 'nl' | 'en') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-register-'));
    dirs.push(dir);
    const config = parseConfig({
      zones: [
        { id: 'centrum', name: 'Centrum', sensors: ['s-001', 's-002'] },
        { id: 'markt', name: 'Markt', sensors: ['s-003'] },
      ],
      transparency: { controller: { name: 'Gemeente Voorbeeld', email: 'privacy@voorbeeld.example' }, tileUrl, sensors: SENSORS },
    });
    await writeKit(config, dir, lang);
    const site = await listen(serveDir(dir));
    const context = await newContext(browser, { locale: lang === 'nl' ? 'nl-NL' : 'en-GB' });
    const page = await context.newPage();
    const problems = watch(page, site.url);
    await page.goto(`${site.url}/sensor-register.html`);
    return {
      page,
      problems,
      close: async () => {
        await context.close();
        await site.close();
      },
    };
  }

  it('with tiles: the map shows the tiles and a marker per sensor; the list has every sensor', async () => {
    tileRequests.length = 0;
    const { page, problems, close } = await openRegister(`${tiles.url}/{z}/{x}/{y}.png`, 'nl');
    try {
      await page.locator('.leaflet-tile-loaded').first().waitFor({ state: 'attached', timeout: 15_000 });
      expect(tileRequests.length).toBeGreaterThan(0);
      expect(await page.locator('path.leaflet-interactive').count()).toBe(SENSORS.length);
      expect(await page.locator('#sensor-list li.sensor').count()).toBe(SENSORS.length);
      expect(await page.locator('[data-sensor="s-001"] .active-until').textContent()).toBe('2027-12-31');
      expect(await page.locator('[data-sensor="s-001"] .contact').textContent()).toContain('privacy@voorbeeld.example');
      expect(await page.locator('#map-note').isHidden()).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'sensor-register-tiles.png'), fullPage: true });
      // the tiles come from the configured (outside) server: expected; nothing else may fail
      expect(unexpected(problems, { requests: [new RegExp(`outside request: ${tiles.url}/`)] })).toEqual({ console: [], errors: [], requests: [] });
    } finally {
      await close();
    }
  }, 60_000);

  it('without tiles (a tile URL nobody answers): markers and the list are still there, and the page says why the map is blank', async () => {
    const dead = await listen(() => undefined);
    const deadUrl = dead.url;
    await dead.close(); // a port that was just freed: connections are refused
    const { page, problems, close } = await openRegister(`${deadUrl}/{z}/{x}/{y}.png`, 'en');
    try {
      await page.locator('#map-note').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('#map-note').textContent()).toContain('the list below shows every sensor');
      expect(await page.locator('.leaflet-tile-loaded').count()).toBe(0);
      expect(await page.locator('path.leaflet-interactive').count()).toBe(SENSORS.length);
      expect(await page.locator('#sensor-list li.sensor').count()).toBe(SENSORS.length);
      expect(await page.locator('#sensor-list').textContent()).toContain('Kalverstraat 1');
      await page.screenshot({ path: path.join(ARTIFACTS, 'sensor-register-no-tiles.png'), fullPage: true });
      expect(problems.errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});
