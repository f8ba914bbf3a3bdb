// Parsing FHIR request bodies (docs/fhir.md "Limits"): nesting is bounded before anything is
// parsed, and prototype-poisoning keys are refused (secure-json-parse, as Fastify does for
// /v1), so a hostile body is a 400 OperationOutcome, never a crash or a 500.
import sjson from 'secure-json-parse';
import { FhirError } from './outcome.js';

/** Deepest nesting of objects and arrays accepted; real resources and Bundles stay well under it. */
export const MAX_FHIR_DEPTH = 64;

/** Keys no FHIR element has, which reach object prototypes in JavaScript. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The deepest `{`/`[` nesting of JSON text, counted outside strings; stops early past `limit`. */
export function jsonDepth(text: string, limit = MAX_FHIR_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function refuseForbiddenKeys(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) refuseForbiddenKeys(v, `${path}[${i}]`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(k)) throw new FhirError(400, 'structure', `${path}.${k}: no FHIR element has this name`);
    refuseForbiddenKeys(v, `${path}.${k}`);
  }
}

/**
 * Parse a FHIR JSON body. Throws FhirError 400 (`structure`) for text that is not JSON,
 * nests deeper than MAX_FHIR_DEPTH, or has a `__proto__`, `constructor` or `prototype` key.
 */
export function parseFhirJson(text: string): unknown {
  if (jsonDepth(text) > MAX_FHIR_DEPTH)
    throw new FhirError(400, 'structure', `the body nests deeper than ${MAX_FHIR_DEPTH} levels; no FHIR resource does`);
  let value: unknown;
  try {
    value = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const poisoned = /prototype property/.test((err as Error).message);
    throw new FhirError(
      400,
      'structure',
      poisoned ? 'the body has a forbidden __proto__ or constructor member' : 'request body is not valid JSON',
    );
  }
  refuseForbiddenKeys(value, '$');
  return value;
}
