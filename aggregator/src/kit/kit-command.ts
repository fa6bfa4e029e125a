/**
 * `passant-aggregator kit --config FILE --out DIR [--lang nl|en]`: writes the transparency kit for the
 * configuration (the same loading as `run`: defaults < file < environment):
 *   processing-register.md   the GDPR art. 30 entry
 *   dpia.md                  a DPIA draft
 *   sign.html                the street sign (A4, Dutch and English, QR code to the privacy page)
 *   sensor-register.json     the public sensor register in Amsterdam's sensor-register fields
 *   sensor-register.html     the same as a page with a Leaflet map (works without tiles), leaflet/ beside it
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import type { AggregatorConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { dpia, LANGS, processingRegister, registerPage, registerRecords, sign, type Lang } from './documents.ts';
import { kitFacts } from './facts.ts';

const USAGE = 'usage: passant-aggregator kit [--config FILE] --out DIR [--lang nl|en]';

export const KIT_FILES = ['processing-register.md', 'dpia.md', 'sign.html', 'sensor-register.json', 'sensor-register.html'] as const;

/** Writes the kit for `config` into `outDir`; returns the paths written. */
export async function writeKit(config: AggregatorConfig, outDir: string, lang: Lang, now = new Date()): Promise<string[]> {
  const facts = kitFacts(config);
  fs.mkdirSync(path.join(outDir, 'leaflet'), { recursive: true });
  const files: [string, string][] = [
    ['processing-register.md', processingRegister(lang, facts, now)],
    ['dpia.md', dpia(lang, facts, now)],
    ['sign.html', await sign(lang, facts)],
    ['sensor-register.json', `${JSON.stringify({ generatedAt: now.toISOString(), sensors: registerRecords(facts) }, null, 2)}\n`],
    ['sensor-register.html', registerPage(lang, facts, now)],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(outDir, name);
    fs.writeFileSync(file, text);
    written.push(file);
  }
  // Leaflet beside the page, so that it needs nothing from elsewhere but the tiles
  const leafletDist = path.dirname(createRequire(import.meta.url).resolve('leaflet/dist/leaflet.js'));
  for (const name of ['leaflet.js', 'leaflet.css']) fs.copyFileSync(path.join(leafletDist, name), path.join(outDir, 'leaflet', name));
  fs.cpSync(path.join(leafletDist, 'images'), path.join(outDir, 'leaflet', 'images'), { recursive: true });
  return written;
}

export async function kitCommand(args: string[]): Promise<number> {
  let configFile: string | undefined;
  let outDir: string | undefined;
  let lang: Lang = 'nl';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (arg === '--config' && value !== undefined) configFile = args[++i];
    else if (arg === '--out' && value !== undefined) outDir = args[++i];
    else if (arg === '--lang' && value !== undefined) {
      if (!(LANGS as readonly string[]).includes(value)) {
        process.stderr.write(`passant-aggregator kit: --lang must be nl or en, not ${JSON.stringify(value)}\n${USAGE}\n`);
        return 2;
      }
      lang = value as Lang;
      i++;
    } else {
      process.stderr.write(`passant-aggregator kit: unknown argument ${JSON.stringify(arg)}\n${USAGE}\n`);
      return 2;
    }
  }
  if (outDir === undefined) {
    process.stderr.write(`passant-aggregator kit: --out DIR is required\n${USAGE}\n`);
    return 2;
  }
  let config: AggregatorConfig;
  try {
    config = loadConfig(configFile !== undefined ? { configFile } : {});
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const written = await writeKit(config, outDir, lang);
  for (const file of written) process.stdout.write(`${file}\n`);
  const placed = new Set(config.transparency.sensors.map((s) => s.id));
  const unplaced = config.zones.flatMap((z) => z.sensors).filter((id) => !placed.has(id));
  if (unplaced.length > 0) {
    process.stderr.write(`passant-aggregator kit: no placement (transparency.sensors) for ${unplaced.join(', ')}: listed without a location, not on the map\n`);
  }
  return 0;
}
