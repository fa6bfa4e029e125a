/**
 * The API token a person pastes in: tidied, checked for shape, and kept for this browser tab only, unless the
 * person asks for it to be remembered on this device.
 *
 * By default the token goes to sessionStorage, not localStorage: a token is a bearer secret (whoever holds it
 * reads what it grants). sessionStorage lives only as long as the tab: it is not shared with other tabs or
 * windows and is gone when the tab closes, so a token pasted on a shared or borrowed computer does not stay
 * behind on its disk for the next person. Reloading the page keeps it. Only when the person ticks "Remember me on
 * this device" (their own laptop or phone) is it kept in localStorage, until they sign out. Signing out forgets
 * it in both.
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

function readStored(storage: Storage): string | null {
  const stored = storage.getItem(STORAGE_KEY);
  if (stored === null) return null;
  const input = readTokenInput(stored);
  return input.ok ? input.token : null;
}

/** The kept token: this tab's first, then the one remembered on this device. */
export function loadToken(): string | null {
  try {
    return readStored(sessionStorage) ?? readStored(localStorage);
  } catch {
    return null; // storage disabled: the token lasts until the page is left
  }
}

/** Keeps the token for this tab, or (`remember`) on this device until signing out; never in both. */
export function saveToken(token: string, remember = false): void {
  try {
    forgetToken();
    (remember ? localStorage : sessionStorage).setItem(STORAGE_KEY, token);
  } catch {
    // storage disabled: the token lasts until the page is left
  }
}

/** Forgets the token in this tab and on this device. */
export function forgetToken(): void {
  for (const storage of [() => sessionStorage, () => localStorage]) {
    try {
      storage().removeItem(STORAGE_KEY);
    } catch {
      // storage disabled: nothing was kept there
    }
  }
}
