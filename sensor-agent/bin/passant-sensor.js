#!/usr/bin/env node
// Runs the bundle that `npm run build` makes (dist/passant-sensor.mjs: plain JavaScript, a faster start and about
// 35 MB less memory than compiling TypeScript at start), or, when there is none or a source it was built from
// (dist/sources.json: some 40 files, stat'ed in about a millisecond) is newer than it (a checkout being worked on),
// the TypeScript sources directly through tsx; so a change to a file of shared/ that only the aggregator uses does
// not send the sensor to the slow path. With PASSANT_REQUIRE_BUILD=1 (the Docker image sets it) a missing or stale
// bundle is an error instead. The choice is @passant/shared/launch's, the same as the aggregator's bin.
import { launch } from '@passant/shared/launch';

await launch({
  name: 'passant-sensor',
  packageDir: new URL('../', import.meta.url),
  async loadSources() {
    const { register } = await import('tsx/esm/api');
    register();
    return import('../src/cli.ts');
  },
});
