export * from './harness.js';
export * from './netns.js';
