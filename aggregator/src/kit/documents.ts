/**
 * The transparency kit's documents, each generated from the facts of the configuration (facts.ts):
 * - the processing-register entry with the fields of GDPR article 30(1);
 * - a DPIA draft: data flow, what is kept for how long, risks (residual ones too) and measures, each measure
 *   naming the test that shows it;
 * - the street sign (A4 HTML, Dutch and English, QR code to the public privacy page);
 * - the public sensor register as JSON in the fields of Amsterdam's sensor register, and as an HTML page with a
 *   Leaflet map that lists every sensor without tiles too.
 * What the configuration does not say and the organisation has to decide is printed as a marked choice, never
 * guessed.
 *
 * Size: over 400 lines because it holds the documents' templates (register entry, DPIA, sign, sensor register);
 * most lines are the documents' own text.
 */
import QRCode from 'qrcode';
import type { KitFacts, RetentionFact, SensorFact } from './facts.ts';

export type Lang = 'nl' | 'en';
export const LANGS: readonly Lang[] = ['nl', 'en'];

type Bi = { en: string; nl: string };
const pick = (lang: Lang, text: Bi) => text[lang];

/** A choice the organisation still has to make, marked so it cannot be mistaken for a fact. */
export function choice(lang: Lang, what: string): string {
  return lang === 'nl' ? `**[KEUZE ORGANISATIE: ${what}]**` : `**[ORGANISATION'S CHOICE: ${what}]**`;
}
/** A value the organisation set, marked as its choice, with the config key it came from. */
function chosen(lang: Lang, value: string, key: string): string {
  return lang === 'nl' ? `${value} _(keuze van de organisatie, ${'`'}${key}${'`'})_` : `${value} _(the organisation's choice, ${'`'}${key}${'`'})_`;
}
/** A fact read from the configuration, with its key. */
function fact(value: string | number, key: string): string {
  return `${value} _(${'`'}${key}${'`'})_`;
}

export const LEGAL_GROUND_TEXT: Record<string, Bi> = {
  'public-task': {
    en: 'GDPR art. 6(1)(e): a task carried out in the public interest',
    nl: 'AVG art. 6 lid 1 sub e: vervulling van een taak van algemeen belang',
  },
  'legitimate-interests': {
    en: 'GDPR art. 6(1)(f): legitimate interests of the controller',
    nl: 'AVG art. 6 lid 1 sub f: gerechtvaardigd belang van de verwerkingsverantwoordelijke',
  },
  consent: { en: 'GDPR art. 6(1)(a): consent', nl: 'AVG art. 6 lid 1 sub a: toestemming' },
};

function days(lang: Lang, r: RetentionFact): string {
  if (r.days === null) return lang === 'nl' ? 'zolang de telling loopt' : 'for as long as the counting runs';
  if (r.days === 0) return lang === 'nl' ? 'hooguit één minuut, alleen in het geheugen' : 'one minute at most, in memory only';
  if (r.key?.endsWith('Hours')) return lang === 'nl' ? `${r.value} uur` : `${r.value} hours`;
  return lang === 'nl' ? `${r.days} dagen` : `${r.days} days`;
}

function scopeText(lang: Lang, s: 'all' | 'none' | string[]): string {
  if (s === 'all') return lang === 'nl' ? 'alle' : 'all';
  if (s === 'none') return lang === 'nl' ? 'geen' : 'none';
  return s.join(', ');
}

function controllerLines(lang: Lang, f: KitFacts): string[] {
  const c = f.transparency.controller;
  const row = (label: Bi, value: string | undefined, key: string, what: Bi) =>
    `- ${pick(lang, label)}: ${value ? fact(value, `transparency.controller.${key}`) : choice(lang, pick(lang, what))}`;
  return [
    row({ en: 'Name', nl: 'Naam' }, c.name, 'name', { en: 'name of the controller', nl: 'naam van de verwerkingsverantwoordelijke' }),
    row({ en: 'Address', nl: 'Adres' }, c.address, 'address', { en: 'postal address', nl: 'postadres' }),
    row({ en: 'Contact (e-mail)', nl: 'Contact (e-mail)' }, c.email, 'email', { en: 'contact for questions', nl: 'contact voor vragen' }),
    row({ en: 'Phone', nl: 'Telefoon' }, c.phone, 'phone', { en: 'phone number', nl: 'telefoonnummer' }),
    row({ en: 'Data protection officer', nl: 'Functionaris gegevensbescherming' }, c.dpo, 'dpo', {
      en: 'contact of the data protection officer',
      nl: 'contact van de functionaris gegevensbescherming',
    }),
  ];
}

function purposeText(lang: Lang, f: KitFacts): string {
  return f.transparency.purpose
    ? chosen(lang, f.transparency.purpose, 'transparency.purpose')
    : choice(lang, lang === 'nl' ? 'het doel, bijvoorbeeld drukte meten in het winkelgebied' : 'the purpose, for example measuring how busy the shopping street is');
}

function legalGroundText(lang: Lang, f: KitFacts): string {
  const g = f.transparency.legalGround;
  if (!g) return choice(lang, lang === 'nl' ? 'rechtsgrond (AVG art. 6), met onderbouwing' : 'legal ground (GDPR art. 6), with its reasoning');
  const detail = f.transparency.legalGroundDetail ? ` — ${f.transparency.legalGroundDetail}` : '';
  return chosen(lang, `${pick(lang, LEGAL_GROUND_TEXT[g]!)}${detail}`, 'transparency.legalGround');
}

function retentionTable(lang: Lang, f: KitFacts): string[] {
  const head = lang === 'nl' ? ['| gegevens | bewaard | instelling |', '|---|---|---|'] : ['| data | kept | setting |', '|---|---|---|'];
  return [...head, ...f.retention.map((r) => `| ${pick(lang, r.what)} | ${days(lang, r)} | ${r.key ? `\`${r.key}\` = ${r.value}` : '—'} |`)];
}

function sensorsLine(lang: Lang, f: KitFacts): string {
  const n = f.sensors.length;
  const z = f.zones.length;
  return lang === 'nl' ? `${n} sensoren in ${z} zones (zie het sensorregister)` : `${n} sensors in ${z} zones (see the sensor register)`;
}

// ------------------------------------------------------------------ processing register (art. 30)

export function processingRegister(lang: Lang, f: KitFacts, generatedAt: Date): string {
  const nl = lang === 'nl';
  const date = generatedAt.toISOString().slice(0, 10);
  const L: string[] = [];
  L.push(nl ? '# Verwerkingsregister: passantentelling (Passant)' : '# Record of processing activities: counting passers-by (Passant)');
  L.push('');
  L.push(
    nl
      ? `Gegenereerd op ${date} uit de configuratie van de aggregator (\`passant-aggregator kit\`). Feiten komen uit de configuratie (de sleutel staat erbij); wat de organisatie nog moet beslissen staat als **[KEUZE ORGANISATIE]**.`
      : `Generated on ${date} from the aggregator's configuration (\`passant-aggregator kit\`). Facts come from the configuration (their key is given); what the organisation still has to decide is marked **[ORGANISATION'S CHOICE]**.`,
  );
  L.push('');
  L.push(nl ? '## 1. Verwerkingsverantwoordelijke (art. 30 lid 1 sub a)' : '## 1. Controller (art. 30(1)(a))');
  L.push(...controllerLines(lang, f));
  L.push('');
  L.push(nl ? '## 2. Doel en rechtsgrond (art. 30 lid 1 sub b)' : '## 2. Purpose and legal ground (art. 30(1)(b))');
  L.push(`- ${nl ? 'Doel' : 'Purpose'}: ${purposeText(lang, f)}`);
  L.push(`- ${nl ? 'Rechtsgrond' : 'Legal ground'}: ${legalGroundText(lang, f)}`);
  L.push('');
  L.push(nl ? '## 3. Categorieën van betrokkenen en van persoonsgegevens (art. 30 lid 1 sub c)' : '## 3. Categories of data subjects and of personal data (art. 30(1)(c))');
  L.push(
    nl
      ? '- Betrokkenen: voorbijgangers met een telefoon of ander apparaat dat Wi-Fi-probe-requests of Bluetooth-advertenties uitzendt, in het bereik van een sensor.'
      : '- Data subjects: passers-by carrying a phone or other device that sends Wi-Fi probe requests or Bluetooth advertisements, within reach of a sensor.',
  );
  L.push(
    nl
      ? `- Persoonsgegevens: het hardware-adres (MAC) van het apparaat, alleen in het geheugen van de sensor en alleen binnen één minuut (${f.windowSeconds} s): het wordt met een sleutel die elke minuut nieuw is gehasht en geteld; het adres, de hash en de sleutel verlaten de sensor nooit en worden gewist zodra de minuut sluit.`
      : `- Personal data: the device's hardware (MAC) address, only in the sensor's memory and only within one minute (${f.windowSeconds} s): it is hashed with a key that is new every minute and counted; the address, its hash and the key never leave the sensor and are wiped when the minute closes.`,
  );
  L.push(
    nl
      ? '- Wat de sensor verstuurt en wat bewaard wordt: per sensor per minuut het aantal apparaten, hoeveel daarvan een willekeurig adres gebruiken en het aantal frames (een histogram van signaalsterkte alleen in de installatiemodus, nooit bewaard). Dit zijn geen adressen.'
      : '- What the sensor sends and what is kept: per sensor and minute the number of devices, how many of them use a randomized address and the number of frames (a histogram of signal strength only in setup mode, never stored). These are not addresses.',
  );
  L.push(`- ${sensorsLine(lang, f)}.`);
  L.push('');
  L.push(nl ? '## 4. Ontvangers (art. 30 lid 1 sub d)' : '## 4. Recipients (art. 30(1)(d))');
  L.push(
    nl
      ? `- Het publiek: alleen vrijgegeven tellingen (zones met minder dan k = ${f.k} apparaten worden onderdrukt) van de openbare zones: ${scopeText(lang, f.publicZones)} _(\`auth.public.zones\`)_ en locaties: ${scopeText(lang, f.publicSites)} _(\`auth.public.sites\`)_.`
      : `- The public: only released counts (zones with fewer than k = ${f.k} devices are suppressed) of the public zones: ${scopeText(lang, f.publicZones)} _(\`auth.public.zones\`)_ and sites: ${scopeText(lang, f.publicSites)} _(\`auth.public.sites\`)_.`,
  );
  L.push(
    nl
      ? `- Houders van een API-token, per rol (${f.roles.join(', ')}): viewer leest de zones waarvoor het token geldt, admin alles, privacy de privacypagina, sensorgezondheid en auditgegevens. Ook zij zien alleen vrijgegeven tellingen.`
      : `- Holders of an API token, by role (${f.roles.join(', ')}): viewer reads the zones its token is for, admin everything, privacy the privacy page, sensor health and audit data. They too see only released counts.`,
  );
  L.push(`- ${nl ? 'Verwerkers (hosting, beheer)' : 'Processors (hosting, operation)'}: ${choice(lang, nl ? 'verwerkers en verwerkersovereenkomsten' : 'processors and their agreements')}`);
  L.push('');
  L.push(nl ? '## 5. Doorgifte buiten de EER (art. 30 lid 1 sub e)' : '## 5. Transfers outside the EEA (art. 30(1)(e))');
  L.push(nl ? '- Passant zelf geeft niets door; hosting elders: ' + choice(lang, 'locatie van de servers') : '- Passant itself transfers nothing; hosting elsewhere: ' + choice(lang, 'where the servers are'));
  L.push('');
  L.push(nl ? '## 6. Bewaartermijnen (art. 30 lid 1 sub f)' : '## 6. Retention (art. 30(1)(f))');
  L.push(...retentionTable(lang, f));
  L.push('');
  L.push(nl ? '## 7. Beveiligingsmaatregelen (art. 30 lid 1 sub g, art. 32)' : '## 7. Security measures (art. 30(1)(g), art. 32)');
  L.push(...measures(lang, f).map((m) => `- ${m.text} (${nl ? 'test' : 'test'}: ${m.tests.map((t) => `\`${t}\``).join(', ')})`));
  L.push('');
  return L.join('\n');
}

// ------------------------------------------------------------------ measures and risks

export interface Measure {
  text: string;
  /** Repository paths of the tests that show the measure works. */
  tests: string[];
}

export function measures(lang: Lang, f: KitFacts): Measure[] {
  const nl = lang === 'nl';
  const list: Measure[] = [
    {
      text: nl
        ? `Adressen worden op de sensor gehasht met een 128-bit sleutel die elke ${f.windowSeconds} s nieuw is; adres, hash en sleutel verlaten de sensor nooit`
        : `Addresses are hashed on the sensor with a 128-bit key that is new every ${f.windowSeconds} s; address, hash and key never leave the sensor`,
      tests: ['sensor-agent/test/privacy-canary.test.ts'],
    },
    {
      text: nl
        ? 'Strikt berichtformaat en plausibiliteit: een onbekend veld of een waarde die geen eerlijke sensor stuurt (zoals een adres in `seq`) wordt geweigerd; geweigerde berichten worden alleen met reden en grootte gelogd'
        : 'Strict message format and plausibility: an unknown field or a value no honest sensor sends (such as an address in `seq`) is refused; refused messages are logged with their reason and size only',
      tests: ['aggregator/test/ingest/validate-counts.test.ts', 'aggregator/test/ingest/plausibility.test.ts', 'aggregator/test/ingest/fuzz.test.ts'],
    },
    {
      text: nl
        ? `Drempel k = ${f.k}: een zone-minuut met minder apparaten wordt nooit als getal getoond; uur- en dagtotalen tellen alleen vrijgegeven minuten, zodat verschillen niets onthullen`
        : `Threshold k = ${f.k}: a zone-minute with fewer devices is never shown as a number; hour and day totals add released minutes only, so that differences reveal nothing`,
      tests: ['aggregator/test/release/release-layer.test.ts', 'aggregator/test/release/attacker.test.ts'],
    },
    {
      text: f.baseline.enabled
        ? nl
          ? 'Apparaten die er altijd zijn (printers, pc’s, bakens) tellen niet mee voor k: per sensor wordt een statische basislijn geschat uit zijn eigen tellingen'
          : 'Devices that are always there (printers, PCs, beacons) do not count towards k: each sensor has a static baseline estimated from its own counts'
        : nl
          ? 'De statische basislijn staat UIT (`baseline.enabled`): apparaten die er altijd zijn tellen mee voor k'
          : 'The static baseline is OFF (`baseline.enabled`): devices that are always there count towards k',
      tests: ['aggregator/test/release/people-rule.test.ts'],
    },
    {
      text: f.noise.enabled
        ? nl
          ? `Ruis op open data: epsilon ${f.noise.epsilon} per zone-minuut, gevoeligheid ${f.noise.devicesPerPerson} apparaten per persoon maal het aantal sensoren van de zone`
          : `Noise on open data: epsilon ${f.noise.epsilon} per zone-minute, sensitivity ${f.noise.devicesPerPerson} devices per person times the zone's number of sensors`
        : nl
          ? 'Ruis staat uit (`noise.enabled`): open data zijn exacte vrijgegeven tellingen'
          : 'Noise is off (`noise.enabled`): open data are exact released counts',
      tests: ['aggregator/test/release/noise.test.ts'],
    },
    {
      text: nl
        ? 'Toegang per token en rol; alleen de geconfigureerde zones en locaties zijn openbaar'
        : 'Access by token and role; only the configured zones and sites are public',
      tests: ['aggregator/test/http/access.test.ts', 'aggregator/test/auth/token-store.test.ts'],
    },
    {
      text: nl
        ? 'Broker: elke sensor schrijft alleen zijn eigen onderwerpen en leest alleen de ontvangstbevestigingen van zijn eigen berichten (ACL, TLS)'
        : 'Broker: each sensor writes only its own topics and reads only the acknowledgements of its own messages (ACL, TLS)',
      tests: ['test/broker-security.test.ts'],
    },
    {
      text: nl
        ? 'Controle van een draaiende installatie door de privacyfunctionaris: `passant-aggregator audit` (berichten, code, vrijgavelaag, instellingen)'
        : 'Check of a running deployment by the privacy officer: `passant-aggregator audit` (messages, code, release layer, settings)',
      tests: ['test/audit.test.ts', 'aggregator/test/audit/release-check.test.ts'],
    },
  ];
  return list;
}

function risks(lang: Lang, f: KitFacts): { risk: string; measure: string; residual: string }[] {
  const nl = lang === 'nl';
  const perSensor = f.retention.find((r) => r.key === 'retention.sensorWindowHours') ?? f.retention.find((r) => r.key === 'retention.minuteDays');
  const rawKept = perSensor ? `${days(lang, perSensor)} (\`${perSensor.key}\`)` : '?';
  const smallZones = f.zones.filter((z) => z.sensors.length <= 1).map((z) => z.id);
  return [
    {
      risk: nl ? 'Volgen van een persoon via zijn apparaat-adres' : "Following a person through their device's address",
      measure: nl ? 'Sleutel per minuut, adres verlaat de sensor nooit' : 'Key per minute, the address never leaves the sensor',
      residual: nl ? 'Laag; een gewijzigde sensor kan dit omzeilen: controleer de build-hash met `audit`' : 'Low; a modified sensor could bypass it: check its build hash with `audit`',
    },
    {
      risk: nl ? 'Statische apparaten houden een zone boven k, zodat één telefoon zichtbaar wordt' : 'Static devices keep a zone at or above k, so one phone becomes visible',
      measure: f.baseline.enabled
        ? nl
          ? `Statische basislijn per sensor (kwantiel ${f.baseline.quantile} van de ${f.baseline.quietHours} rustigste uren)`
          : `Static baseline per sensor (quantile ${f.baseline.quantile} of the ${f.baseline.quietHours} quietest hours)`
        : nl
          ? 'Geen: de basislijn staat uit'
          : 'None: the baseline is off',
      residual: nl
        ? `Middel: de basislijn is een schatting; een nieuwe sensor telt niet mee voor vrijgave tot hij ${f.baseline.minHistoryHours} uur gegevens heeft`
        : `Medium: the baseline is an estimate; a new sensor does not count towards release until it has ${f.baseline.minHistoryHours} hours of data`,
    },
    {
      risk: nl ? 'Kleine zones (één sensor, rustige plek): weinig mensen per minuut' : 'Small zones (one sensor, a quiet place): few people a minute',
      measure: nl ? `Drempel k = ${f.k}; zones met één sensor: ${smallZones.join(', ') || 'geen'}` : `Threshold k = ${f.k}; zones with a single sensor: ${smallZones.join(', ') || 'none'}`,
      residual: nl ? 'Middel bij k < 10 ' + choice(lang, 'aanvaarden of k verhogen') : 'Medium for k < 10 ' + choice(lang, 'accept or raise k'),
    },
    {
      risk: nl ? 'Ruwe gegevens per sensor per minuut (ook van één of twee apparaten) op de server' : 'Raw per-sensor minute data (of one or two devices too) on the server',
      measure: nl
        ? `Alleen wie de server beheert kan de opslag lezen, nooit via de API; verwijderd na ${rawKept}`
        : `Only an administrator of the server can read the store, never through the API; deleted after ${rawKept}`,
      residual: nl
        ? 'Middel: wie de server beheert ziet kleine aantallen per sensor (apparaten, willekeurige adressen, frames)'
        : 'Medium: whoever runs the server sees small counts per sensor (devices, randomized addresses, frames)',
    },
    {
      risk: nl ? 'Afleiden van onderdrukte cellen uit verschillen van openbare reeksen' : 'Deriving suppressed cells from differences of public series',
      measure: nl ? 'Totalen alleen over vrijgegeven cellen; differentie-aanval in test en audit' : 'Totals over released cells only; differencing attack in the tests and the audit',
      residual: nl ? 'Laag' : 'Low',
    },
  ];
}

// ------------------------------------------------------------------ DPIA draft

export function dpia(lang: Lang, f: KitFacts, generatedAt: Date): string {
  const nl = lang === 'nl';
  const date = generatedAt.toISOString().slice(0, 10);
  const L: string[] = [];
  L.push(nl ? '# DPIA (concept): passantentelling met Passant' : '# DPIA (draft): counting passers-by with Passant');
  L.push('');
  L.push(
    nl
      ? `Concept, gegenereerd op ${date} uit de configuratie. Feiten komen uit de configuratie; **[KEUZE ORGANISATIE]** markeert wat de organisatie moet invullen en afwegen.`
      : `Draft, generated on ${date} from the configuration. Facts come from the configuration; **[ORGANISATION'S CHOICE]** marks what the organisation has to fill in and weigh.`,
  );
  L.push('');
  L.push(nl ? '## 1. Verwerkingsverantwoordelijke' : '## 1. Controller');
  L.push(...controllerLines(lang, f));
  L.push(`- ${nl ? 'Doel' : 'Purpose'}: ${purposeText(lang, f)}`);
  L.push(`- ${nl ? 'Rechtsgrond' : 'Legal ground'}: ${legalGroundText(lang, f)}`);
  L.push('');
  L.push(nl ? '## 2. Gegevensstroom' : '## 2. Data flow');
  L.push('```');
  L.push(
    nl
      ? 'telefoon --radio--> sensor (adres + sleutel per minuut -> hash -> telling; adres gewist)\n  --MQTT (TLS, ACL)--> aggregator (telling per sensor per minuut)\n  --vrijgavelaag (k, basislijn, ruis)--> API / dashboard / open data'
      : 'phone --radio--> sensor (address + per-minute key -> hash -> count; address wiped)\n  --MQTT (TLS, ACL)--> aggregator (count per sensor per minute)\n  --release layer (k, baseline, noise)--> API / dashboard / open data',
  );
  L.push('```');
  L.push('');
  L.push(
    nl
      ? `Vrijgave: een zone-minuut wordt pas vrijgegeven als elke sensor van de zone gemeld heeft of ${f.settleSeconds} s na het einde van de minuut (\`settleSeconds\`), en alleen met ten minste k = ${f.k} apparaten (\`k\`)${f.baseline.enabled ? ' boven de statische basislijn' : ''}.`
      : `Release: a zone-minute is released once every sensor of the zone has reported it or ${f.settleSeconds} s after the minute ended (\`settleSeconds\`), and only with at least k = ${f.k} devices (\`k\`)${f.baseline.enabled ? ' above the static baseline' : ''}.`,
  );
  L.push('');
  L.push(nl ? '## 3. Wat wordt verzameld en hoe lang' : '## 3. What is collected and for how long');
  L.push(...retentionTable(lang, f));
  L.push('');
  L.push(
    nl
      ? `Openbaar: zones ${scopeText(lang, f.publicZones)}, locaties ${scopeText(lang, f.publicSites)}; privacypagina ${f.privacyPagePublic ? 'openbaar' : 'alleen met token'}. Ruis: ${f.noise.enabled ? `aan, epsilon ${f.noise.epsilon}` : 'uit'}.`
      : `Public: zones ${scopeText(lang, f.publicZones)}, sites ${scopeText(lang, f.publicSites)}; privacy page ${f.privacyPagePublic ? 'public' : 'token only'}. Noise: ${f.noise.enabled ? `on, epsilon ${f.noise.epsilon}` : 'off'}.`,
  );
  L.push('');
  L.push(nl ? '## 4. Noodzaak en evenredigheid' : '## 4. Necessity and proportionality');
  L.push(choice(lang, nl ? 'waarom tellen nodig is en waarom een mildere manier niet volstaat' : 'why counting is needed and why a milder way does not do'));
  L.push('');
  L.push(nl ? '## 5. Risico’s en maatregelen' : '## 5. Risks and measures');
  L.push(nl ? '| risico | maatregel | restrisico |' : '| risk | measure | residual risk |');
  L.push('|---|---|---|');
  for (const r of risks(lang, f)) L.push(`| ${r.risk} | ${r.measure} | ${r.residual} |`);
  L.push('');
  L.push(nl ? '## 6. Maatregelen en de tests die ze aantonen' : '## 6. Measures and the tests that show them');
  for (const m of measures(lang, f)) L.push(`- ${m.text}: ${m.tests.map((t) => `\`${t}\``).join(', ')}`);
  L.push('');
  L.push(nl ? '## 7. Oordeel en ondertekening' : '## 7. Conclusion and sign-off');
  L.push(choice(lang, nl ? 'oordeel van de functionaris gegevensbescherming, datum, handtekening' : "the data protection officer's opinion, date, signature"));
  L.push('');
  return L.join('\n');
}

// ------------------------------------------------------------------ street sign

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export async function sign(lang: Lang, f: KitFacts): Promise<string> {
  const url = f.transparency.privacyPageUrl;
  const qr = url ? await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }) : null;
  const minute = f.retention.find((r) => r.key === 'retention.minuteDays')?.days;
  const c = f.transparency.controller;
  const block = (l: Lang) => {
    const nl = l === 'nl';
    return `<section lang="${l}" class="${l}">
  <h1>${nl ? 'Hier tellen we voorbijgangers, we volgen niemand' : 'We count passers-by here, we follow no one'}</h1>
  <p>${
    nl
      ? 'Sensoren tellen de telefoons die hier Wi-Fi- of Bluetooth-signalen uitzenden. Het adres van uw telefoon wordt op de sensor onherkenbaar gemaakt met een sleutel die elke minuut verandert, en daarna gewist. Alleen aantallen worden verstuurd.'
      : 'Sensors count the phones that send Wi-Fi or Bluetooth signals here. Your phone’s address is made unrecognisable on the sensor with a key that changes every minute, then wiped. Only numbers are sent.'
  }</p>
  <ul>
    <li>${nl ? `Minder dan <b data-fact="k">${f.k}</b> apparaten in een minuut: dan tonen we geen getal.` : `Fewer than <b data-fact="k">${f.k}</b> devices in a minute: no number is shown.`}</li>
    <li>${nl ? `Tellingen per minuut worden <b data-fact="retention">${minute}</b> dagen bewaard.` : `Counts per minute are kept for <b data-fact="retention">${minute}</b> days.`}</li>
    <li>${nl ? 'Doel' : 'Purpose'}: ${f.transparency.purpose ? esc(f.transparency.purpose) : `<mark>${nl ? '[KEUZE ORGANISATIE: doel]' : "[ORGANISATION'S CHOICE: purpose]"}</mark>`}</li>
    <li>${nl ? 'Verantwoordelijk' : 'Responsible'}: ${c.name ? esc(c.name) : `<mark>${nl ? '[KEUZE ORGANISATIE: naam]' : "[ORGANISATION'S CHOICE: name]"}</mark>`}${
      c.email ? ` — <span data-fact="contact">${esc(c.email)}</span>` : ''
    }</li>
  </ul>
</section>`;
  };
  const order: Lang[] = lang === 'nl' ? ['nl', 'en'] : ['en', 'nl'];
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>${lang === 'nl' ? 'Passantentelling' : 'Counting passers-by'}</title>
<style>
  @page { size: A4 portrait; margin: 12mm; }
  html, body { margin: 0; font-family: system-ui, sans-serif; color: #111; }
  .sheet { width: 186mm; min-height: 273mm; margin: 0 auto; display: flex; flex-direction: column; gap: 6mm; }
  h1 { font-size: 24pt; line-height: 1.15; margin: 0 0 3mm; }
  section { border-top: 3px solid #111; padding-top: 4mm; font-size: 13pt; }
  section.${order[1]} { font-size: 11pt; }
  section.${order[1]} h1 { font-size: 17pt; }
  .qr { display: flex; align-items: center; gap: 8mm; }
  .qr svg { width: 55mm; height: 55mm; }
  .qr { border-top: 3px solid #111; padding-top: 4mm; }
  .url { font-size: 13pt; }
  .url b { word-break: break-all; }
  .url p { margin: 0 0 2mm; }
  mark { background: #ffe066; }
</style>
</head>
<body>
<div class="sheet">
${block(order[0]!)}
${block(order[1]!)}
<div class="qr">${qr ?? `<mark>${lang === 'nl' ? '[KEUZE ORGANISATIE: privacypagina (transparency.privacyPageUrl)]' : "[ORGANISATION'S CHOICE: privacy page (transparency.privacyPageUrl)]"}</mark>`}<div class="url">${order
  .map((l) => `<p lang="${l}">${l === 'nl' ? 'Meer weten, of bezwaar maken? Scan de code of ga naar:' : 'Want to know more, or object? Scan the code or go to:'}</p>`)
  .join('')}<p><b>${url ? esc(url) : ''}</b></p></div></div>
</div>
</body>
</html>
`;
}

// ------------------------------------------------------------------ public sensor register

/**
 * One sensor as a record of Amsterdam's sensor register (the fields of its public device API):
 * reference, type, location {latitude, longitude}, location_description, regions, datastream, themes,
 * contains_pi_data ('Ja'/'Nee'), observation_goals [{observation_goal, legal_ground, privacy_declaration}],
 * active_until (YYYY-MM-DD), owner {organisation, email, telephone, website}, projects.
 */
export interface AmsterdamSensorRecord {
  reference: string;
  type: string;
  location: { latitude: number | null; longitude: number | null };
  location_description: string | null;
  regions: string | null;
  datastream: string;
  themes: string[];
  contains_pi_data: 'Ja' | 'Nee';
  observation_goals: { observation_goal: string | null; legal_ground: string | null; privacy_declaration: string | null }[];
  active_until: string | null;
  owner: { organisation: string | null; email: string | null; telephone: string | null; website: string | null };
  projects: string[];
}

export function registerRecords(f: KitFacts): AmsterdamSensorRecord[] {
  const t = f.transparency;
  const g = t.legalGround ? `${LEGAL_GROUND_TEXT[t.legalGround]!.nl}${t.legalGroundDetail ? ` — ${t.legalGroundDetail}` : ''}` : null;
  return f.sensors.map((s: SensorFact) => ({
    reference: s.id,
    type: 'Aanwezigheid of nabijheidsensor',
    location: { latitude: s.lat, longitude: s.lon },
    location_description: s.location,
    regions: s.area,
    datastream: `Aantal apparaten per minuut (Wi-Fi en Bluetooth), vrijgegeven vanaf k = ${f.k}`,
    themes: ['Mobiliteit: voetganger'],
    // the sensor reads device addresses (personal data) in memory for one minute before it counts them
    contains_pi_data: 'Ja',
    observation_goals: [{ observation_goal: t.purpose ?? null, legal_ground: g, privacy_declaration: t.privacyPageUrl ?? null }],
    active_until: s.activeUntil,
    owner: { organisation: t.controller.name ?? null, email: t.controller.email ?? null, telephone: t.controller.phone ?? null, website: t.controller.website ?? null },
    projects: s.zoneId ? [s.zoneId] : [],
  }));
}

export function registerPage(lang: Lang, f: KitFacts, generatedAt: Date = new Date()): string {
  const today = generatedAt.toISOString().slice(0, 10);
  const nl = lang === 'nl';
  const records = registerRecords(f);
  const t = f.transparency;
  const dash = '—';
  const rows = records
    .map(
      (r) => `<li class="sensor${r.active_until !== null && r.active_until < today ? ' ended' : ''}" data-sensor="${esc(r.reference)}">
  <h2>${esc(r.reference)}</h2>
  <dl>
    <dt>${nl ? 'Locatie' : 'Location'}</dt><dd>${esc(r.location_description ?? dash)}${r.location.latitude !== null ? ` (${r.location.latitude}, ${r.location.longitude})` : ''}</dd>
    <dt>${nl ? 'Gebied' : 'Area'}</dt><dd>${esc(r.regions ?? dash)}</dd>
    <dt>${nl ? 'Doel' : 'Purpose'}</dt><dd>${esc(r.observation_goals[0]!.observation_goal ?? (nl ? '[nog niet vastgesteld]' : '[not set yet]'))}</dd>
    <dt>${nl ? 'Rechtsgrond' : 'Legal ground'}</dt><dd>${esc(t.legalGround ? pick(lang, LEGAL_GROUND_TEXT[t.legalGround]!) : nl ? '[nog niet vastgesteld]' : '[not set yet]')}</dd>
    <dt>${nl ? 'Persoonsgegevens' : 'Personal data'}</dt><dd>${nl ? 'Ja: apparaat-adressen, alleen op de sensor en alleen één minuut; verstuurd worden alleen aantallen' : 'Yes: device addresses, only on the sensor and only for one minute; only counts are sent'}</dd>
    <dt>${nl ? 'Actief tot' : 'Active until'}</dt><dd class="active-until">${esc(r.active_until ?? dash)}${r.active_until !== null && r.active_until < today ? (nl ? ' (beëindigd: telt niet meer)' : ' (ended: no longer counts)') : ''}</dd>
    <dt>Contact</dt><dd class="contact">${esc([r.owner.organisation, r.owner.email, r.owner.telephone].filter(Boolean).join(', ') || dash)}</dd>
  </dl>
</li>`,
    )
    .join('\n');
  const placed = records.filter((r) => r.location.latitude !== null).map((r) => ({ id: r.reference, lat: r.location.latitude, lon: r.location.longitude, area: r.regions }));
  const config = { tileUrl: t.tileUrl, attribution: t.tileAttribution, sensors: placed, noTiles: nl ? 'Kaartachtergrond niet beschikbaar; de lijst hieronder toont alle sensoren.' : 'Map background unavailable; the list below shows every sensor.' };
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${nl ? 'Sensorregister' : 'Sensor register'}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="leaflet/leaflet.css">
<style>
  body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
  #map { height: 24rem; background: #e8eef2; }
  #map-note { color: #7a4b00; }
  #sensor-list { list-style: none; padding: 0; }
  .sensor { border-top: 1px solid #ccc; padding: .5rem 0; }
  .sensor h2 { font-size: 1.1rem; margin: 0; }
  .sensor.ended { color: #666; }
  dl { display: grid; grid-template-columns: 10rem 1fr; margin: .3rem 0; }
  dt { font-weight: 600; }
</style>
</head>
<body>
<h1>${nl ? 'Sensorregister: passantentelling' : 'Sensor register: counting passers-by'}</h1>
<p>${nl ? 'Beheerder' : 'Operator'}: ${esc(t.controller.name ?? dash)}${t.controller.email ? `, <a href="mailto:${esc(t.controller.email)}">${esc(t.controller.email)}</a>` : ''}${
    t.privacyPageUrl ? ` · <a href="${esc(t.privacyPageUrl)}">${nl ? 'privacyverklaring' : 'privacy statement'}</a>` : ''
  } · <a href="sensor-register.json">JSON</a></p>
<div id="map" role="img" aria-label="${nl ? 'kaart van de sensoren' : 'map of the sensors'}"></div>
<p id="map-note" hidden></p>
<ul id="sensor-list">
${rows}
</ul>
<script src="leaflet/leaflet.js"></script>
<script id="register-config" type="application/json">${json}</script>
<script>
(function () {
  var config = JSON.parse(document.getElementById('register-config').textContent);
  var note = document.getElementById('map-note');
  function say(text) { note.textContent = text; note.hidden = false; }
  if (typeof L === 'undefined' || config.sensors.length === 0) { document.getElementById('map').hidden = true; if (config.sensors.length) say(config.noTiles); return; }
  var map = L.map('map', { zoomControl: true });
  var markers = config.sensors.map(function (s) {
    return L.circleMarker([s.lat, s.lon], { radius: 8, color: '#b00020', weight: 2, fillOpacity: 0.6 })
      .bindTooltip(s.id + (s.area ? ' — ' + s.area : ''))
      .on('click', function () { var el = document.querySelector('[data-sensor="' + s.id + '"]'); if (el) el.scrollIntoView(); })
      .addTo(map);
  });
  map.fitBounds(L.featureGroup(markers).getBounds().pad(0.3), { maxZoom: 17 });
  var failed = 0;
  L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 19 })
    .on('tileerror', function () { if (failed++ === 0) say(config.noTiles); })
    .addTo(map);
})();
</script>
</body>
</html>
`;
}
