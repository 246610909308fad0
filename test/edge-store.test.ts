import { describe } from 'node:test';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import { storeConformance, storeConformanceMore } from './helpers/edge-store-suite.js';

describe('edge store conformance: memory tier', () => {
  storeConformance((maxBytes, maxObjectBytes) => createMemoryStore(maxBytes, maxObjectBytes));
  storeConformanceMore((maxBytes, maxObjectBytes) => createMemoryStore(maxBytes, maxObjectBytes));
});
