// The CometBFT engine (docs/cometbft.md): the ABCI 2.0 server, the EHR application behind
// it, and running a validator as the application plus a supervised CometBFT process.
export * from './app-port.js';
export * from './comet-node.js';
export * from './cometbft-home.js';
export * from './cometbft-process.js';
export * from './ehr-app.js';
export * from './framing.js';
export * from './handler.js';
export * from './rpc.js';
export * from './server.js';
export * from './validator.js';
export * from './verify-comet.js';
