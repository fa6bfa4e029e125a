#!/usr/bin/env node
// Runs the bundle that `npm run build` makes (dist/passant-aggregator.mjs: plain JavaScript, no TypeScript compiled
// at start), or, when there is none or a source it was built from (dist/sources.json) is newer than it (a checkout
// being worked on), the TypeScript sources directly through tsx. With PASSANT_REQUIRE_BUILD=1 (the Docker image
// sets it) a missing or stale bundle is an error instead: production runs built JavaScript only. The choice is
// @passant/shared/launch's, the same as the sensor's bin.
import { launch } from '@passant/shared/launch';

await launch({
  name: 'passant-aggregator',
  packageDir: new URL('../', import.meta.url),
  async loadSources() {
    const { register } = await import('tsx/esm/api');
    register();
    return import('../src/cli.ts');
  },
});
