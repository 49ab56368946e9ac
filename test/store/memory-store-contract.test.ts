import { MemoryStore } from '../../src/core';
import { describeStoreContract } from './contract';

// The memory store is per process: its "peer" (another process) is itself. Its clock is the test's.
describeStoreContract('MemoryStore', () => {
  let now = 1_000_000;
  const store = new MemoryStore({ now: () => now });
  return {
    store,
    advance: (ms) => {
      now += ms;
      return Promise.resolve();
    },
    peer: () => store,
    close: () => store.close(),
  };
});
