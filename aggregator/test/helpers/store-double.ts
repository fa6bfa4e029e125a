/**
 * A real store with some methods replaced: what a test needs to make writes fail, stall or be recorded while every
 * other method (the release layer's reads and writes) is the real store's. Not a mock: the data live in `real`.
 */
import type { ReleaseStore } from '../../src/store/types.ts';

export function storeWith<S extends ReleaseStore>(real: S, overrides: Partial<ReleaseStore>): S {
  return new Proxy(real, {
    get(target, prop) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return (overrides as Record<PropertyKey, unknown>)[prop];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
