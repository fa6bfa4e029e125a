/**
 * The API token a person pastes in: tidied, checked for shape, and kept for this browser tab only.
 *
 * Why sessionStorage and not localStorage: a token is a bearer secret (whoever holds it reads what it grants).
 * sessionStorage lives only as long as the tab: it is not shared with other tabs or windows and is gone when
 * the tab closes, so a token pasted on a shared or borrowed computer does not stay behind on its disk for the
 * next person, as it would in localStorage (kept until someone clears it). Reloading the page keeps it.
 *
 * The token is never written to the URL, the console or the page (the field is a password field).
 */

const STORAGE_KEY = 'passant.token';
/** Longer input is certainly not a token; stops an accidental paste of a whole file from going out. */
const MAX_TOKEN_LENGTH = 200;

export type TokenInput = { ok: true; token: string } | { ok: false; reason: 'empty' | 'malformed' };

/**
 * What a person pasted, tidied: surrounding white space and a leading `Bearer ` (copied from a curl line) are
 * dropped. Refused when empty, or when it holds white space, quotes or other characters no token has.
 * Whether the server knows the token is for the server to say.
 */
export function readTokenInput(raw: string): TokenInput {
  const token = raw.trim().replace(/^bearer\s+/i, '');
  if (token === '') return { ok: false, reason: 'empty' };
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9._~+/=-]+$/.test(token)) return { ok: false, reason: 'malformed' };
  return { ok: true, token };
}

export function loadToken(): string | null {
  try {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored === null) return null;
    const input = readTokenInput(stored);
    return input.ok ? input.token : null;
  } catch {
    return null; // storage disabled: the token lasts until the page is left
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // storage disabled: the token lasts until the page is left
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: nothing was kept
  }
}
