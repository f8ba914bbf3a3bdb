// The two checks an EPCIS document passes before MedLedger captures it (docs/medicines.md
// "EPCIS capture"). First GS1's published EPCIS 2.0 JSON Schema, loaded unchanged from
// schemas/ (see schemas/NOTICE): the document is valid EPCIS 2.0. Then MedLedger's narrower
// profile (epcis-schema.ts): the event types and fields a supply transaction records. The two
// refusals carry different codes, so a partner can tell "this is not EPCIS 2.0" (INVALID_ARGUMENT)
// from "this is EPCIS 2.0 that MedLedger does not record" (EPCIS_NOT_SUPPORTED), e.g. a
// TransformationEvent or sensor data.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { EPCIS_DOCUMENT_SCHEMA } from './epcis-schema.js';
import { ClientError } from './errors.js';
import publishedSchema from './schemas/EPCIS-JSON-Schema.json' with { type: 'json' };

// ajv-formats is CommonJS: its default export arrives as the module object or the function.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** One finding: the RFC 6901 JSON pointer of the offending field ('' is the document) and what is wrong there. */
export interface EpcisViolation {
  pointer: string;
  message: string;
}

/**
 * A refused EPCIS document: `code` INVALID_ARGUMENT (it violates the published EPCIS 2.0 schema)
 * or EPCIS_NOT_SUPPORTED (valid EPCIS 2.0, outside MedLedger's profile), each finding in
 * `violations` with its pointer; the message lists the first ten.
 */
export class EpcisValidationError extends ClientError {
  readonly violations: EpcisViolation[];
  constructor(code: 'INVALID_ARGUMENT' | 'EPCIS_NOT_SUPPORTED', violations: EpcisViolation[]) {
    const what =
      code === 'INVALID_ARGUMENT'
        ? 'the EPCIS document violates the EPCIS 2.0 schema'
        : 'the EPCIS document is valid EPCIS 2.0, but MedLedger does not support it';
    const shown = violations.slice(0, 10).map((v) => `${v.pointer || '/'} ${v.message}`);
    const more = violations.length > 10 ? ` (and ${violations.length - 10} more)` : '';
    super(code, `${what}: ${shown.join('; ')}${more}`);
    this.name = 'EpcisValidationError';
    this.violations = violations;
  }
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Ajv's findings as pointers to the offending field: a missing, extra or badly named property
 * points at the property itself, not at its parent. The `if` findings only repeat, one level
 * up, what the `then` branch found, so they are left out.
 */
function violationsOf(errors: ErrorObject[]): EpcisViolation[] {
  const seen = new Set<string>();
  const out: EpcisViolation[] = [];
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const p = e.params as { missingProperty?: string; additionalProperty?: string; propertyName?: string };
    const field = p.missingProperty ?? p.additionalProperty ?? p.propertyName;
    const pointer = field === undefined ? e.instancePath : `${e.instancePath}/${escapePointer(field)}`;
    const message = e.message ?? 'is invalid';
    const key = `${pointer}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ pointer, message });
  }
  return out;
}

interface Validators {
  published: ValidateFunction;
  profile: ValidateFunction;
}
let compiled: Validators | undefined;
/** Compiled once, on first use (the published schema takes a few hundred ms to compile). */
function validators(): Validators {
  if (compiled === undefined) {
    // GS1's schema is draft-07 (Ajv's default draft) but not written for Ajv's strict mode
    // (e.g. `if` without `type`, `minItems` beside no `type`): strict is off for it alone.
    const lenient = new Ajv({ allErrors: true, strict: false });
    addFormats(lenient);
    const strict = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(strict);
    compiled = { published: lenient.compile(publishedSchema), profile: strict.compile(EPCIS_DOCUMENT_SCHEMA) };
  }
  return compiled;
}

/**
 * Check `doc` against the published EPCIS 2.0 schema, then MedLedger's profile. Throws
 * EpcisValidationError INVALID_ARGUMENT or EPCIS_NOT_SUPPORTED (docs/medicines.md "EPCIS capture").
 */
export function validateEpcisDocument(doc: unknown): void {
  const { published, profile } = validators();
  if (!published(doc)) throw new EpcisValidationError('INVALID_ARGUMENT', violationsOf(published.errors ?? []));
  if (!profile(doc)) throw new EpcisValidationError('EPCIS_NOT_SUPPORTED', violationsOf(profile.errors ?? []));
}
