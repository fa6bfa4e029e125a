/** The store contract against the embedded SQLite store, on a real file in a temp dir. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { storeContract } from './store-contract.ts';

storeContract('SqliteStore', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'passant-sqlite-contract-'));
  const file = path.join(dir, 'counts.db');
  let current = SqliteStore.open(file);
  return {
    store: current,
    async reopen() {
      current = SqliteStore.open(file);
      return current;
    },
    async cleanup() {
      await current.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
