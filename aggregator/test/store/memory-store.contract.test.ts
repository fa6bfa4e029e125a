/** The store contract against the in-memory store (the release data of a store that keeps raw counts only). */
import { MemoryStore } from '../../src/store/memory-store.ts';
import { storeContract } from './store-contract.ts';

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return {
    store,
    async cleanup() {
      await store.close();
    },
  };
});
