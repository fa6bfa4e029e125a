/**
 * The one time limit of Passant's programs: `withTimeout(p, ms, what)` settles as `p` does, or rejects after `ms`
 * with an error naming `what` ("<what> took longer than <ms> ms"); its timer never outlives the race. A caller
 * that wants a fallback instead of an error catches it: `withTimeout(p, 2000, 'the ping').catch(() => false)`.
 */
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
