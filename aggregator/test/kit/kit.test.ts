/**
 * The transparency kit is generated from the configuration: each of its files carries the configured k,
 * retention and contact, and changes when the configuration does; what the configuration leaves open is marked as
 * the organisation's choice; every test a measure cites exists.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, type AggregatorConfigInput } from '../../src/config.ts';
import { measures } from '../../src/kit/documents.ts';
import { kitFacts } from '../../src/kit/facts.ts';
import { KIT_FILES, kitCommand, writeKit } from '../../src/kit/kit-command.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-kit-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function input(k: number, minuteDays: number, email: string): AggregatorConfigInput {
  return {
    k,
    retention: { minuteDays },
    zones: [
      { id: 'centrum', name: 'Centrum', sensors: ['s-001', 's-002'] },
      { id: 'markt', name: 'Markt', sensors: ['s-003'] },
    ],
    auth: { public: { zones: ['centrum'] } },
    transparency: {
      controller: { name: 'Gemeente Voorbeeld', email },
      purpose: 'Drukte meten in het winkelgebied',
      legalGround: 'public-task',
      privacyPageUrl: 'https://voorbeeld.example/privacy/passant',
      sensors: [
        { id: 's-001', lat: 52.37, lon: 4.89, location: 'Kalverstraat 1', activeUntil: '2027-12-31' },
        { id: 's-002', lat: 52.371, lon: 4.891 },
        { id: 's-003', lat: 52.372, lon: 4.9, activeUntil: '2027-06-30' },
      ],
    },
  };
}

async function kit(k: number, minuteDays: number, email: string, lang: 'nl' | 'en'): Promise<Record<string, string>> {
  const out = tempDir();
  await writeKit(parseConfig(input(k, minuteDays, email)), out, lang, new Date('2026-12-02T12:00:00Z'));
  return Object.fromEntries(KIT_FILES.map((f) => [f, fs.readFileSync(path.join(out, f), 'utf8')]));
}

/** How each file states k, the minute retention and the contact. */
const says = {
  'processing-register.md': { k: (k: number) => `k = ${k}`, days: (d: number) => `\`retention.minuteDays\` = ${d}` },
  'dpia.md': { k: (k: number) => `k = ${k}`, days: (d: number) => `\`retention.minuteDays\` = ${d}` },
  'sign.html': { k: (k: number) => `<b data-fact="k">${k}</b>`, days: (d: number) => `<b data-fact="retention">${d}</b>` },
  'sensor-register.html': { k: null, days: null },
  'sensor-register.json': { k: (k: number) => `vrijgegeven vanaf k = ${k}`, days: null },
} as const;

describe('the transparency kit', () => {
  for (const lang of ['nl', 'en'] as const) {
    it(`carries the configured k, retention and contact, and changes with them (${lang})`, async () => {
      const a = await kit(7, 31, 'privacy@voorbeeld.example', lang);
      const b = await kit(11, 14, 'fg@andere.example', lang);
      for (const file of KIT_FILES) {
        const rule = says[file];
        expect(a[file], `${file} names the contact`).toContain('privacy@voorbeeld.example');
        expect(b[file], `${file} names the new contact`).toContain('fg@andere.example');
        expect(b[file]).not.toContain('privacy@voorbeeld.example');
        if (rule.k) {
          expect(a[file], `${file} states k`).toContain(rule.k(7));
          expect(b[file], `${file} states the new k`).toContain(rule.k(11));
          expect(b[file]).not.toContain(rule.k(7));
        }
        if (rule.days) {
          expect(a[file], `${file} states the retention`).toContain(rule.days(31));
          expect(b[file], `${file} states the new retention`).toContain(rule.days(14));
          expect(b[file]).not.toContain(rule.days(31));
        }
        expect(a[file]).not.toEqual(b[file]);
      }
    });
  }

  it('marks what the configuration leaves open as the organisation\'s choice, and states what it sets as facts', async () => {
    const out = tempDir();
    await writeKit(parseConfig({ zones: [{ id: 'z', name: 'Z', sensors: ['s-1'] }] }), out, 'en');
    const register = fs.readFileSync(path.join(out, 'processing-register.md'), 'utf8');
    for (const open of ['name of the controller', 'contact for questions', 'the purpose', 'legal ground (GDPR art. 6)']) {
      expect(register).toContain(`**[ORGANISATION'S CHOICE: ${open}`);
    }
    expect(fs.readFileSync(path.join(out, 'sign.html'), 'utf8')).toContain("[ORGANISATION'S CHOICE: privacy page (transparency.privacyPageUrl)]");
    const full = await kit(7, 31, 'privacy@voorbeeld.example', 'nl');
    expect(full['processing-register.md']).toContain('Gemeente Voorbeeld _(`transparency.controller.name`)_');
    expect(full['processing-register.md']).toContain('AVG art. 6 lid 1 sub e');
    expect(full['processing-register.md']).toMatch(/\*\*\[KEUZE ORGANISATIE: postadres\]\*\*/);
  });

  it('the sign has Dutch and English text and a QR code; the register JSON has the Amsterdam fields', async () => {
    const files = await kit(7, 31, 'privacy@voorbeeld.example', 'en');
    expect(files['sign.html']).toMatch(/<section lang="en"[\s\S]*<section lang="nl"[\s\S]*<svg/);
    expect(files['sign.html']).toContain('size: A4');
    expect(files['sign.html']).toContain('https://voorbeeld.example/privacy/passant');
    const json = JSON.parse(files['sensor-register.json']!) as { sensors: Record<string, unknown>[] };
    expect(json.sensors.map((s) => s.reference)).toEqual(['s-001', 's-002', 's-003']);
    expect(json.sensors[0]).toEqual({
      reference: 's-001',
      type: 'Aanwezigheid of nabijheidsensor',
      location: { latitude: 52.37, longitude: 4.89 },
      location_description: 'Kalverstraat 1',
      regions: 'Centrum',
      datastream: 'Aantal apparaten per minuut (Wi-Fi en Bluetooth), vrijgegeven vanaf k = 7',
      themes: ['Mobiliteit: voetganger'],
      contains_pi_data: 'Ja',
      observation_goals: [
        {
          observation_goal: 'Drukte meten in het winkelgebied',
          legal_ground: 'AVG art. 6 lid 1 sub e: vervulling van een taak van algemeen belang',
          privacy_declaration: 'https://voorbeeld.example/privacy/passant',
        },
      ],
      active_until: '2027-12-31',
      owner: { organisation: 'Gemeente Voorbeeld', email: 'privacy@voorbeeld.example', telephone: null, website: null },
      projects: ['centrum'],
    });
  });

  it('the register page marks a sensor past its activeUntil as ended', async () => {
    const out = tempDir();
    const config = input(7, 31, 'privacy@voorbeeld.example');
    await writeKit(parseConfig(config), out, 'en', new Date('2027-07-01T12:00:00Z'));
    const page = fs.readFileSync(path.join(out, 'sensor-register.html'), 'utf8');
    expect(page).toContain('<li class="sensor ended" data-sensor="s-003">');
    expect(page).toContain('2027-06-30 (ended: no longer counts)');
    expect(page).toContain('<li class="sensor" data-sensor="s-001">');
  });

  it('every test a measure cites exists in the repository', () => {
    const facts = kitFacts(parseConfig({}));
    const cited = new Set(['nl', 'en'].flatMap((lang) => measures(lang as 'nl' | 'en', facts).flatMap((m) => m.tests)));
    expect(cited.size).toBeGreaterThan(5);
    for (const file of cited) expect(fs.existsSync(path.join(ROOT, file)), file).toBe(true);
  });

  it('the command writes every file and refuses a bad language or a bad config', async () => {
    const out = tempDir();
    const configFile = path.join(out, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify(input(7, 31, 'privacy@voorbeeld.example')));
    const kitDir = path.join(out, 'kit');
    expect(await kitCommand(['--config', configFile, '--out', kitDir, '--lang', 'en'])).toBe(0);
    for (const f of [...KIT_FILES, 'leaflet/leaflet.js', 'leaflet/leaflet.css']) expect(fs.existsSync(path.join(kitDir, f)), f).toBe(true);
    expect(await kitCommand(['--config', configFile, '--out', kitDir, '--lang', 'de'])).toBe(2);
    fs.writeFileSync(configFile, JSON.stringify({ transparency: { sensors: [{ id: 's-1', lat: 91, lon: 0 }] } }));
    expect(await kitCommand(['--config', configFile, '--out', kitDir])).toBe(1);
  });
});
