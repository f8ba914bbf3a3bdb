export * from './delay-relay.js';
export * from './harness.js';
export * from './netns.js';
