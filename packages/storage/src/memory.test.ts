import { MemoryStore } from './memory.js';
import { runStoreConformance } from './conformance.js';

runStoreConformance('memory', () => ({ store: new MemoryStore(), cleanup: () => {} }));
