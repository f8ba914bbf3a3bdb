// Measured values as a clinician writes them: rounded to a sensible precision, in human units
// (UCUM codes translated), and judged against a reference range with a high/low flag. The
// range comes from the resource when the lab sent one, else from a small table of typical
// adult ranges for common LOINC codes, always labelled as such. Pure functions.

/** UCUM codes (https://ucum.org) and the words a reader expects. */
const UCUM_DISPLAY: Record<string, string> = {
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '[degF]': '°F',
  '[lb_av]': 'lb',
  '[in_i]': 'in',
  '[oz_av]': 'oz',
  '/min': '/min',
  '{score}': 'points',
  '{beats}/min': 'beats/min',
  '{breaths}/min': 'breaths/min',
  '10*3/uL': '×10³/µL',
  '10*6/uL': '×10⁶/µL',
  '10*9/L': '×10⁹/L',
  '10*12/L': '×10¹²/L',
  uL: 'µL',
  ug: 'µg',
  'ug/L': 'µg/L',
  'ug/dL': 'µg/dL',
  'umol/L': 'µmol/L',
  'mL/min/{1.73_m2}': 'mL/min/1.73 m²',
  'kg/m2': 'kg/m²',
  '[iU]/L': 'IU/L',
  '[IU]/L': 'IU/L',
  'mg/dL': 'mg/dL',
  'g/dL': 'g/dL',
};

/** Units whose values a clinician reads as whole numbers. */
const WHOLE_UNITS = new Set(['mm[Hg]', '/min', '{score}', '{beats}/min', '{breaths}/min', 'mL/min/{1.73_m2}']);

/** Per-LOINC words for a generic unit: "/min" is beats for a pulse, breaths for breathing. */
const LOINC_UNIT: Record<string, string> = { '8867-4': 'beats/min', '9279-1': 'breaths/min', '72514-3': 'out of 10' };

/** A UCUM code or free unit as people read it: annotations like {score} lose their braces. */
export function unitDisplay(unit: string, loinc?: string): string {
  if (loinc !== undefined && LOINC_UNIT[loinc] !== undefined) return LOINC_UNIT[loinc];
  const known = UCUM_DISPLAY[unit];
  if (known !== undefined) return known;
  return unit.replace(/\{([^}]*)\}/g, '$1').replace(/_/g, ' ');
}

/**
 * A number rounded for reading: whole numbers for pressures, rates and scores; otherwise by
 * size (≥100: none, ≥10: one decimal, ≥1: two, below: three), trailing zeros dropped.
 * 151.86292759932016 mmHg reads 152; 4.5678 ×10⁶/µL reads 4.57.
 */
export function roundForReading(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  const decimals = WHOLE_UNITS.has(unit) ? 0 : size >= 100 ? 0 : size >= 10 ? 1 : size >= 1 ? 2 : 3;
  const fixed = value.toFixed(decimals);
  const trimmed = decimals === 0 ? fixed : fixed.replace(/\.?0+$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

/** A reference range: either end may be open ("below 200"). */
export interface ReferenceRange {
  low?: number;
  high?: number;
  /** The UCUM unit the bounds are in. */
  unit: string;
  /** Where it came from: the lab's own range in the resource, or the typical-range table. */
  source: 'resource' | 'typical';
}

/**
 * Typical adult ranges for common LOINC codes, used only when the resource carries none and
 * only when the value is in the same unit. Not a diagnosis: shown as "typical adult range".
 */
const TYPICAL_RANGES: Record<string, Omit<ReferenceRange, 'source'>> = {
  '8480-6': { low: 90, high: 129, unit: 'mm[Hg]' }, // systolic
  '8462-4': { low: 60, high: 80, unit: 'mm[Hg]' }, // diastolic
  '8867-4': { low: 60, high: 100, unit: '/min' }, // heart rate
  '9279-1': { low: 12, high: 20, unit: '/min' }, // respiratory rate
  '8310-5': { low: 36.1, high: 37.2, unit: 'Cel' }, // body temperature
  '59408-5': { low: 95, high: 100, unit: '%' }, // SpO2 (pulse oximetry)
  '2708-6': { low: 95, high: 100, unit: '%' }, // SpO2 (arterial)
  '39156-5': { low: 18.5, high: 24.9, unit: 'kg/m2' }, // BMI
  '2339-0': { low: 70, high: 99, unit: 'mg/dL' }, // glucose, blood
  '2345-7': { low: 70, high: 99, unit: 'mg/dL' }, // glucose, serum or plasma
  '4548-4': { low: 4, high: 5.6, unit: '%' }, // HbA1c
  '2093-3': { high: 199, unit: 'mg/dL' }, // total cholesterol
  '2571-8': { high: 149, unit: 'mg/dL' }, // triglycerides
  '18262-6': { high: 99, unit: 'mg/dL' }, // LDL (direct)
  '13457-7': { high: 99, unit: 'mg/dL' }, // LDL (calculated)
  '2085-9': { low: 40, unit: 'mg/dL' }, // HDL
  '6690-2': { low: 4.5, high: 11, unit: '10*3/uL' }, // leukocytes
  '789-8': { low: 4.2, high: 5.9, unit: '10*6/uL' }, // erythrocytes
  '718-7': { low: 12, high: 17.5, unit: 'g/dL' }, // hemoglobin
  '4544-3': { low: 36, high: 50, unit: '%' }, // hematocrit
  '787-2': { low: 80, high: 100, unit: 'fL' }, // MCV
  '785-6': { low: 27, high: 33, unit: 'pg' }, // MCH
  '786-4': { low: 32, high: 36, unit: 'g/dL' }, // MCHC
  '777-3': { low: 150, high: 400, unit: '10*3/uL' }, // platelets
  '32623-1': { low: 7.5, high: 11.5, unit: 'fL' }, // mean platelet volume
  '33914-3': { low: 60, unit: 'mL/min/{1.73_m2}' }, // eGFR
  '2160-0': { low: 0.6, high: 1.3, unit: 'mg/dL' }, // creatinine
  '2823-3': { low: 3.5, high: 5.1, unit: 'mmol/L' }, // potassium
  '2951-2': { low: 135, high: 145, unit: 'mmol/L' }, // sodium
};

/** The typical adult range for a LOINC code in `unit`, if the table has one. */
export function typicalRange(loinc: string | undefined, unit: string): ReferenceRange | undefined {
  if (loinc === undefined) return undefined;
  const r = TYPICAL_RANGES[loinc];
  if (r === undefined || r.unit !== unit) return undefined;
  return { ...r, source: 'typical' };
}

export type Flag = 'high' | 'low' | 'abnormal' | undefined;

/** High or low against a range (bounds are inclusive: a value on the bound is in range). */
export function flagAgainst(value: number, range: ReferenceRange | undefined): Flag {
  if (range === undefined) return undefined;
  if (range.high !== undefined && value > range.high) return 'high';
  if (range.low !== undefined && value < range.low) return 'low';
  return undefined;
}

/** The HL7 v3 ObservationInterpretation codes a lab may send, as a flag. */
export function flagFromInterpretation(code: string | undefined): Flag {
  if (code === undefined) return undefined;
  if (['H', 'HH', 'HU', '>'].includes(code)) return 'high';
  if (['L', 'LL', 'LU', '<'].includes(code)) return 'low';
  if (['A', 'AA'].includes(code)) return 'abnormal';
  return undefined;
}

/** "70–99 mg/dL", "below 200 mg/dL", "40 mg/dL or more". */
export function rangeDisplay(range: ReferenceRange, loinc?: string): string {
  const u = unitDisplay(range.unit, loinc);
  const n = (v: number) => roundForReading(v, range.unit);
  const text =
    range.low !== undefined && range.high !== undefined
      ? `${n(range.low)}–${n(range.high)} ${u}`
      : range.high !== undefined
        ? `${n(range.high)} ${u} or less`
        : range.low !== undefined
          ? `${n(range.low)} ${u} or more`
          : '';
  return range.source === 'typical' ? `${text}, typical adult range` : text;
}

/** The words for a flag, as the badge reads. */
export function flagWord(flag: Flag): string {
  return flag === 'high' ? 'High' : flag === 'low' ? 'Low' : flag === 'abnormal' ? 'Abnormal' : '';
}
