// Types of the two GS1 libraries gs1.ts uses (neither ships its own): only what gs1.ts calls.

declare module 'gs1-barcode-parser-mod' {
  interface ParsedElement {
    /** Application identifier, e.g. '01'. */
    ai: string;
    dataTitle: string;
    data: string | number | Date;
    /** The untouched characters the element was read from. */
    raw?: string;
    /** Dates: 'YYYY-MM-DD' as the code says it, in any timezone. */
    isoDate?: string;
  }
  /** Throws a string error code on a malformed element string. */
  function parseBarcode(code: string): { denominator?: string; parsedCodeItems: ParsedElement[] };
  const BarcodeParser: { parseBarcode: typeof parseBarcode };
  export = BarcodeParser;
}

declare module 'digital-link.js' {
  interface DigitalLinkObject {
    isValid(): boolean;
    getIdentifier(): Record<string, string>;
    getKeyQualifiers(): Record<string, string>;
    getAttributes(): Record<string, string>;
  }
  const DigitalLinkJs: {
    /** Throws on a string it cannot read as a Digital Link. */
    DigitalLink(uri: string): DigitalLinkObject;
    /** `position`: 1-based place of the check digit, -1 for the last character. */
    CheckDigit: { validateCheckDigit(position: number, code: string): boolean };
  };
  export = DigitalLinkJs;
}
