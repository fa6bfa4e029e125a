/**
 * Polling for tests: `waitFor(check, what, timeoutMs)` calls `check` (sync or async) every `intervalMs` until it
 * returns a truthy value, and resolves with that value; after `timeoutMs` it throws, naming `what`.
 *
 *   await waitFor(() => received.length >= 3, 'three messages', 5_000);
 *   const row = await waitFor(() => store.get(id), `row ${id}`); // resolves with the row
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
