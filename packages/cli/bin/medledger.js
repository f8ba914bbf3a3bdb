#!/usr/bin/env node
// The `medledger` command. The TypeScript sources are compiled by `tsc -b`, which
// `npm ci` runs through the root `prepare` script.
import '../dist/main.js';
