/**
 * The audit's dated report for the DPIA file: Markdown and HTML, Dutch and English, from one AuditResult.
 * It holds numbers, names of sensors and settings, and reasons; never a payload or a value from a refused
 * message, and never the value of a suppressed cell.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AuditResult, CheckId } from './audit.ts';

type Lang = 'nl' | 'en';

const TITLES: Record<CheckId, { en: string; nl: string; what: { en: string; nl: string } }> = {
  wire: {
    en: 'The wire',
    nl: 'De verbinding',
    what: {
      en: 'Every counts and status message the sensors published while the audit listened, against the published schema and the plausibility rules.',
      nl: 'Elk tel- en statusbericht dat de sensoren publiceerden terwijl de audit luisterde, getoetst aan het gepubliceerde schema en de plausibiliteitsregels.',
    },
  },
  code: {
    en: 'The code',
    nl: 'De code',
    what: {
      en: "Each sensor's reported build hash against the builds the officer trusts (a list, or a hash of a build made from source).",
      nl: 'De build-hash die elke sensor meldt, vergeleken met de builds die de functionaris vertrouwt (een lijst, of de hash van een build uit de broncode).',
    },
  },
  release: {
    en: 'The release layer',
    nl: 'De vrijgavelaag',
    what: {
      en: 'The differencing attack over every series route the token can read: no suppressed cell may follow from the outputs.',
      nl: 'De differentie-aanval op elke reeks die het token kan lezen: geen onderdrukte cel mag uit de uitvoer volgen.',
    },
  },
  settings: {
    en: 'The settings',
    nl: 'De instellingen',
    what: {
      en: 'What the aggregator says about itself (/api/v1/privacy) against what the transparency kit states for the configuration.',
      nl: 'Wat de aggregator over zichzelf zegt (/api/v1/privacy) tegenover wat de transparantiekit voor de configuratie vermeldt.',
    },
  },
};

const word = (lang: Lang, pass: boolean) => (pass ? (lang === 'nl' ? 'GESLAAGD' : 'PASS') : lang === 'nl' ? 'NIET GESLAAGD' : 'FAIL');
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const mdCell = (s: string | number) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const esc = (s: string | number) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function markdownReport(r: AuditResult, lang: Lang): string {
  const nl = lang === 'nl';
  const L: string[] = [];
  L.push(nl ? `# Passant-audit ${iso(r.startedAt)}: ${word(lang, r.pass)}` : `# Passant audit ${iso(r.startedAt)}: ${word(lang, r.pass)}`);
  L.push('');
  L.push(`- ${nl ? 'API' : 'API'}: ${r.apiUrl}`);
  L.push(`- MQTT: ${r.mqttUrl}`);
  L.push(`- ${nl ? 'Begonnen / klaar' : 'Started / finished'}: ${iso(r.startedAt)} / ${iso(r.finishedAt)}`);
  L.push('');
  L.push(nl ? '| controle | uitslag |' : '| check | result |');
  L.push('|---|---|');
  for (const c of r.checks) L.push(`| ${TITLES[c.id][lang]} | ${word(lang, c.pass)} |`);
  for (const c of r.checks) {
    L.push('');
    L.push(`## ${TITLES[c.id][lang]}: ${word(lang, c.pass)}`);
    L.push('');
    L.push(TITLES[c.id].what[lang]);
    L.push('');
    for (const [k, v] of Object.entries(c.evidence)) L.push(`- ${k}: ${v}`);
    if (c.findings.length > 0) {
      L.push('');
      L.push(nl ? '| onderwerp | uitslag | toelichting |' : '| subject | result | detail |');
      L.push('|---|---|---|');
      for (const f of c.findings) L.push(`| ${mdCell(f.subject)} | ${word(lang, f.ok)} | ${mdCell(f[lang])} |`);
    }
  }
  L.push('');
  L.push(
    nl
      ? '_Wat deze audit niet kan bewijzen: wat een sensor doet buiten wat hij publiceert (bijvoorbeeld adressen opslaan op de sensor zelf), of dat een gemelde build-hash eerlijk gemeld is; dat volgt uit de reproduceerbare build en fysieke controle._'
      : '_What this audit cannot prove: what a sensor does beyond what it publishes (for example keep addresses on the sensor itself), or that a reported build hash is reported honestly; that rests on the reproducible build and physical inspection._',
  );
  L.push('');
  return L.join('\n');
}

export function htmlReport(r: AuditResult, lang: Lang): string {
  const nl = lang === 'nl';
  const badge = (pass: boolean) => `<span class="${pass ? 'pass' : 'fail'}">${word(lang, pass)}</span>`;
  const sections = r.checks
    .map(
      (c) => `<section id="${c.id}">
<h2>${esc(TITLES[c.id][lang])}: ${badge(c.pass)}</h2>
<p>${esc(TITLES[c.id].what[lang])}</p>
<ul>${Object.entries(c.evidence)
        .map(([k, v]) => `<li>${esc(k)}: ${esc(v)}</li>`)
        .join('')}</ul>
${
  c.findings.length === 0
    ? ''
    : `<table><thead><tr><th>${nl ? 'onderwerp' : 'subject'}</th><th>${nl ? 'uitslag' : 'result'}</th><th>${nl ? 'toelichting' : 'detail'}</th></tr></thead><tbody>${c.findings
        .map((f) => `<tr class="${f.ok ? 'pass' : 'fail'}"><td>${esc(f.subject)}</td><td>${badge(f.ok)}</td><td>${esc(f[lang])}</td></tr>`)
        .join('')}</tbody></table>`
}
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>${nl ? 'Passant-audit' : 'Passant audit'} ${esc(iso(r.startedAt))}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; }
  .pass { color: #0a6b2d; font-weight: 600; }
  .fail { color: #a00; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; }
  td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
</style>
</head>
<body>
<h1>${nl ? 'Passant-audit' : 'Passant audit'} ${esc(iso(r.startedAt))}: ${badge(r.pass)}</h1>
<p>API: ${esc(r.apiUrl)} · MQTT: ${esc(r.mqttUrl)} · ${nl ? 'klaar' : 'finished'} ${esc(iso(r.finishedAt))}</p>
${sections}
</body>
</html>
`;
}

/** Writes the four reports into `dir`; returns their paths. */
export function writeReports(r: AuditResult, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = iso(r.startedAt).replace(/[-:]/g, '');
  const out: string[] = [];
  for (const lang of ['nl', 'en'] as const) {
    const base = path.join(dir, `passant-audit-${stamp}.${lang}`);
    fs.writeFileSync(`${base}.md`, markdownReport(r, lang));
    fs.writeFileSync(`${base}.html`, htmlReport(r, lang));
    out.push(`${base}.md`, `${base}.html`);
  }
  return out;
}
