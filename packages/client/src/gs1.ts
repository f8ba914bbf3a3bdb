// Product identifiers as scanned from a GS1 DataMatrix (docs/medicines.md "Scanning"): an
// element string, with parentheses as printed under the code or raw with the FNC1 group
// separator as a scanner sends it, or a GS1 Digital Link URI. Parsed by maintained GS1
// libraries (gs1-barcode-parser-mod for element strings, digital-link.js for Digital Link,
// which also checks the GTIN's check digit); nothing here re-implements the syntax.

import DigitalLinkJs from 'digital-link.js';
import BarcodeParser from 'gs1-barcode-parser-mod';
import { ClientError } from './errors.js';

/** A serialized package's identifier (GS1 AIs 01, 21, 10, 17). */
export interface ScannedIdentifier {
  gtin: string;
  serial: string;
  lot?: string;
  /** Expiry as a calendar date 'YYYY-MM-DD' (AI 17 YYMMDD, two-digit year by GS1's sliding window). */
  expiry?: string;
}

/** digital-link.js's position argument for a check digit that is the last character. */
const CHECK_DIGIT_LAST = -1;

/** GS1 mod-10 check digit of a GTIN-8/12/13/14 (GS1 General Specifications §7.9.1), via digital-link.js. */
export function gtinCheckDigitValid(gtin: string): boolean {
  return /^\d{8}$|^\d{12,14}$/.test(gtin) && DigitalLinkJs.CheckDigit.validateCheckDigit(CHECK_DIGIT_LAST, gtin) === true;
}

const bad = (message: string): never => {
  throw new ClientError('INVALID_ARGUMENT', message);
};

/** The element string `(AI)value…` of a Digital Link URI's identifier, key qualifiers and attributes. */
function elementStringOfDigitalLink(uri: string): string {
  let link: ReturnType<typeof DigitalLinkJs.DigitalLink>;
  try {
    link = DigitalLinkJs.DigitalLink(uri);
  } catch {
    return bad('not a GS1 Digital Link URI');
  }
  if (!link.isValid()) return bad('not a valid GS1 Digital Link URI (a wrong GTIN check digit, or a malformed path)');
  const ais = { ...link.getIdentifier(), ...link.getKeyQualifiers(), ...link.getAttributes() } as Record<string, string>;
  return Object.entries(ais)
    .map(([ai, value]) => `(${ai})${value}`)
    .join('');
}

/**
 * An EPC as a GS1 Digital Link URI (EPCIS 2.0 §8.2): a package `…/01/<gtin>/21/<serial>` or a
 * case `…/00/<sscc>`, check digit verified by digital-link.js. Throws INVALID_ARGUMENT naming `where`.
 */
export function parseEpcUri(uri: string, where: string): { gtin: string; serial: string } | { sscc: string } {
  let link: ReturnType<typeof DigitalLinkJs.DigitalLink> | undefined;
  try {
    link = DigitalLinkJs.DigitalLink(uri);
  } catch {
    link = undefined;
  }
  if (link === undefined || !link.isValid()) return bad(`${where}: ${uri} is not a valid GS1 Digital Link URI`);
  const id = link.getIdentifier();
  const q = link.getKeyQualifiers();
  const serial = q['21'];
  if (id['01'] !== undefined && /^\d{14}$/.test(id['01']) && serial !== undefined) return { gtin: id['01'], serial };
  if (id['00'] !== undefined && /^\d{18}$/.test(id['00'])) return { sscc: id['00'] };
  return bad(`${where}: ${uri} is neither a serialized package (01 + 21) nor a case (00)`);
}

/**
 * Parse a scanned DataMatrix: `(01)…(21)…(10)…(17)…`, the same raw with FNC1 group separators
 * (optionally after the `]d2` symbology identifier), or `https://…/01/<gtin>/21/<serial>?10=…&17=…`.
 * Needs GTIN (01) and serial (21); the GTIN's check digit is verified. Throws ClientError
 * INVALID_ARGUMENT naming what is wrong.
 */
export function parseGs1(code: string): ScannedIdentifier {
  const text = code.trim();
  if (text.length === 0 || text.length > 500) bad('a GS1 code is 1–500 characters');
  const elementString = /^https?:\/\//i.test(text) ? elementStringOfDigitalLink(text) : text;
  let parsed: ReturnType<typeof BarcodeParser.parseBarcode>;
  try {
    parsed = BarcodeParser.parseBarcode(elementString);
  } catch (err) {
    return bad(`not a GS1 element string (${typeof err === 'string' ? `parser error ${err}` : 'unreadable'})`);
  }
  const byAi = new Map(parsed.parsedCodeItems.map((item) => [item.ai, item]));
  const elementText = (ai: string) => {
    const e = byAi.get(ai);
    return e === undefined ? undefined : (e.raw ?? String(e.data));
  };
  const gtin = elementText('01') ?? bad('the code has no GTIN (01)');
  if (!/^\d{14}$/.test(gtin) || !gtinCheckDigitValid(gtin)) bad(`GTIN ${gtin} has a wrong check digit`);
  const serial = elementText('21') ?? bad('the code has no serial number (21)');
  const lot = elementText('10');
  const expiry = byAi.get('17')?.isoDate;
  return { gtin, serial, ...(lot === undefined ? {} : { lot }), ...(expiry === undefined ? {} : { expiry }) };
}
