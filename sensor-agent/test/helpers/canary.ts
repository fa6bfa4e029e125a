/**
 * The canary search (docs/architecture.md, "Proof for privacy officers"): looks for every spelling of a set of MAC addresses in bytes that left the
 * sensor (broker traffic, files, logs). Spellings: aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff, bare
 * aabbccddeeff (any case), the raw 6 bytes, their base64, and all of these for the reversed byte order too (BLE
 * sends addresses least significant octet first).
 *
 * It slides over each haystack once with hash lookups, so thousands of addresses cost no more than a few.
 */

export interface Haystack {
  name: string;
  data: Buffer;
}

export interface Leak {
  haystack: string;
  offset: number;
  /** The address as aa:bb:cc:dd:ee:ff and which spelling was found. */
  address: string;
  spelling: string;
}

function colon(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').match(/../g)!.join(':');
}

/** Every text spelling of one address (lower case), with its name. */
export function textSpellings(addr: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const orders: [Uint8Array, string][] = [
    [addr, ''],
    [Uint8Array.from(addr).reverse(), ' (reversed)'],
  ];
  for (const [b, suffix] of orders) {
    const hex = Buffer.from(b).toString('hex');
    const pairs = hex.match(/../g)!;
    out.set(pairs.join(':'), `colon${suffix}`);
    out.set(pairs.join('-'), `dash${suffix}`);
    out.set(`${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}`, `dot${suffix}`);
    out.set(hex, `bare hex${suffix}`);
  }
  return out;
}

/** Finds every occurrence of every spelling of every address in every haystack. */
export function findAddressLeaks(haystacks: Haystack[], addresses: Uint8Array[]): Leak[] {
  const text = new Map<string, { address: string; spelling: string }>();
  const raw = new Map<string, { address: string; spelling: string }>();
  const b64 = new Map<string, { address: string; spelling: string }>();
  for (const a of addresses) {
    if (a.length !== 6) throw new Error('an address has 6 bytes');
    const name = colon(a);
    for (const [s, spelling] of textSpellings(a)) text.set(s, { address: name, spelling: `${spelling} ${s}` });
    const rev = Uint8Array.from(a).reverse();
    raw.set(Buffer.from(a).toString('hex'), { address: name, spelling: 'raw bytes' });
    raw.set(Buffer.from(rev).toString('hex'), { address: name, spelling: 'raw bytes (reversed)' });
    b64.set(Buffer.from(a).toString('base64'), { address: name, spelling: 'base64' });
    b64.set(Buffer.from(rev).toString('base64'), { address: name, spelling: 'base64 (reversed)' });
  }
  const leaks: Leak[] = [];
  for (const h of haystacks) {
    const latin1 = h.data.toString('latin1');
    const lower = latin1.toLowerCase();
    const n = h.data.length;
    for (let i = 0; i < n; i++) {
      for (const len of [12, 14, 17]) {
        if (i + len > n) break;
        const hit = text.get(lower.substr(i, len));
        if (hit) leaks.push({ haystack: h.name, offset: i, ...hit });
      }
      if (i + 6 <= n) {
        const hit = raw.get(h.data.toString('hex', i, i + 6));
        if (hit) leaks.push({ haystack: h.name, offset: i, ...hit });
      }
      if (i + 8 <= n) {
        const hit = b64.get(latin1.substr(i, 8));
        if (hit) leaks.push({ haystack: h.name, offset: i, ...hit });
      }
    }
  }
  return leaks;
}
