// Measured values in Observations: one reading with its unit, range and flag, and charts
// that put every reading of the same measurement on one chart whatever coding variant it
// arrived in (Synthea's 55284-4 and the form's 85354-9 are both blood pressure).
import {
  type Flag,
  flagAgainst,
  flagFromInterpretation,
  type ReferenceRange,
  rangeDisplay,
  roundForReading,
  typicalRange,
  unitDisplay,
} from './clinical-values.js';
import { conceptText, dateOf, type Json, list, loincCodes, obj, objs, str } from './fhir-json.js';

const UCUM = 'http://unitsofmeasure.org';

/** One measured number, ready to show. */
export interface Reading {
  value: number;
  /** The UCUM code (or the free unit when no code was given), for ranges and grouping. */
  unit: string;
  /** "152 mmHg". */
  text: string;
  flag: Flag;
  /** "90–129 mmHg, typical adult range", when a range is known. */
  range?: string;
  /** The same range as numbers in the reading's unit, for a chart's shading. */
  bounds?: { low?: number; high?: number };
}

/** The unit a Quantity is in: its UCUM code when it has one, else its free-text unit. */
export function quantityUnit(q: Json): string {
  return (q.system === UCUM || q.system === undefined ? str(q.code) : undefined) ?? str(q.unit) ?? str(q.code) ?? '';
}

function rangeFrom(x: Json | undefined, unit: string): ReferenceRange | undefined {
  if (x === undefined) return undefined;
  const low = obj(x.low)?.value;
  const high = obj(x.high)?.value;
  if (typeof low !== 'number' && typeof high !== 'number') return undefined;
  return {
    ...(typeof low === 'number' ? { low } : {}),
    ...(typeof high === 'number' ? { high } : {}),
    unit: quantityUnit(obj(x.low) ?? obj(x.high) ?? {}) || unit,
    source: 'resource',
  };
}

/**
 * Read a Quantity in the context of what measured it (`holder`: the Observation or one of its
 * components): the lab's own interpretation and range first, then the typical-range table.
 */
export function readQuantity(x: unknown, holder: Json): Reading | undefined {
  const q = obj(x);
  if (q === undefined || typeof q.value !== 'number') return undefined;
  const unit = quantityUnit(q);
  const loinc = loincCodes(holder.code)[0];
  const shown = unitDisplay(unit, loinc);
  const text = shown === '' ? roundForReading(q.value, unit) : `${roundForReading(q.value, unit)} ${shown}`;
  const range = rangeFrom(objs(holder.referenceRange)[0], unit) ?? typicalRange(loinc, unit);
  const interpreted = objs(holder.interpretation)
    .flatMap((c) => objs(c.coding))
    .map((k) => flagFromInterpretation(str(k.code)))
    .find((f) => f !== undefined);
  const flag = interpreted ?? (range !== undefined && range.unit === unit ? flagAgainst(q.value, range) : undefined);
  const inUnit = range !== undefined && range.unit === unit;
  return {
    value: q.value,
    unit,
    text,
    flag,
    ...(range ? { range: rangeDisplay(range, loinc) } : {}),
    ...(inUnit
      ? { bounds: { ...(range.low !== undefined ? { low: range.low } : {}), ...(range.high !== undefined ? { high: range.high } : {}) } }
      : {}),
  };
}

const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';

/** An Observation's readings: a blood pressure's two components, or its one value. */
export function observationReadings(r: Json): Array<{ label: string; reading: Reading }> {
  const direct = readQuantity(r.valueQuantity, r);
  if (direct !== undefined) return [{ label: conceptText(r.code) ?? 'Value', reading: direct }];
  return objs(r.component)
    .map((c) => ({ label: componentLabel(c), reading: readQuantity(c.valueQuantity, c) }))
    .filter((x): x is { label: string; reading: Reading } => x.reading !== undefined);
}

function componentLabel(c: Json): string {
  const codes = loincCodes(c.code);
  if (codes.includes(SYSTOLIC)) return 'Systolic';
  if (codes.includes(DIASTOLIC)) return 'Diastolic';
  return conceptText(c.code) ?? 'Value';
}

/** Blood pressure as "152/95 mmHg", when the Observation has both components. */
export function bloodPressureText(r: Json): { text: string; flag: Flag } | undefined {
  const readings = observationReadings(r);
  const sys = readings.find((x) => x.label === 'Systolic')?.reading;
  const dia = readings.find((x) => x.label === 'Diastolic')?.reading;
  if (sys === undefined || dia === undefined) return undefined;
  const flag = sys.flag ?? dia.flag;
  return { text: `${roundForReading(sys.value, sys.unit)}/${roundForReading(dia.value, dia.unit)} ${unitDisplay(sys.unit)}`, flag };
}

/**
 * Measurements that are the same thing under different LOINC codes, so their readings share
 * a chart. A code not listed groups with itself.
 */
const SAME_MEASUREMENT: ReadonlyArray<{ title: string; codes: readonly string[] }> = [
  { title: 'Blood pressure', codes: ['85354-9', '55284-4', '35094-2', '8716-3'] },
  { title: 'Body weight', codes: ['29463-7', '3141-9'] },
  { title: 'Body height', codes: ['8302-2', '8306-3', '3137-7'] },
  { title: 'Heart rate', codes: ['8867-4', '8889-8'] },
  { title: 'Body temperature', codes: ['8310-5', '8331-1', '8332-9', '8333-7'] },
  { title: 'Blood glucose', codes: ['2339-0', '2345-7', '41653-7', '15074-8'] },
  { title: 'Oxygen saturation', codes: ['59408-5', '2708-6'] },
  { title: 'Body mass index', codes: ['39156-5'] },
  { title: 'Total cholesterol', codes: ['2093-3'] },
  { title: 'LDL cholesterol', codes: ['18262-6', '13457-7'] },
  { title: 'HDL cholesterol', codes: ['2085-9'] },
  { title: 'HbA1c', codes: ['4548-4', '17856-6'] },
];

/** What was measured, as a grouping key and a title; undefined for an uncoded, untitled one. */
export function measurementOf(r: Json): { key: string; title: string } | undefined {
  const codes = loincCodes(r.code);
  const title = conceptText(r.code);
  // An uncoded reading joins a known measurement by its exact name ("Body weight").
  const group =
    SAME_MEASUREMENT.find((g) => codes.some((c) => g.codes.includes(c))) ??
    (codes.length === 0 ? SAME_MEASUREMENT.find((g) => g.title.toLowerCase() === title?.toLowerCase()) : undefined);
  if (group !== undefined) return { key: `loinc:${group.codes[0]}`, title: group.title };
  if (codes[0] !== undefined) return { key: `loinc:${codes[0]}`, title: title ?? codes[0] };
  return title === undefined ? undefined : { key: `text:${title.toLowerCase()}`, title };
}

/** One plotted line: its label and (time, value) points, oldest first. */
export interface ChartLine {
  label: string;
  points: Array<{ time: number; value: number }>;
}

/** One chart: a measured thing (e.g. "Blood pressure") and its unit, with one or more lines. */
export interface ChartSeries {
  title: string;
  /** The unit as people read it. */
  unit: string;
  /** The UCUM code, for rounding. */
  ucum: string;
  lines: ChartLine[];
  /** A one-line chart's reference range (its latest reading's), shaded behind the line. */
  band?: { low?: number; high?: number; text: string };
}

/** Lines in a fixed order (systolic above diastolic), so colours never swap between charts. */
function lineOrder(label: string): number {
  return label === 'Systolic' ? 0 : label === 'Diastolic' ? 1 : 2;
}

/**
 * Group numeric Observations into charts by what was measured (by LOINC code set, so coding
 * variants join) and unit (readings in lb and kg are not mixed): blood pressure gets a
 * systolic and a diastolic line; every other quantity one line. `fallbackTime` dates an
 * observation that carries no date of its own (its anchoring block time).
 */
export function chartSeries(items: Array<{ resource: unknown; fallbackTime: number }>): ChartSeries[] {
  const byKey = new Map<string, ChartSeries & { bandTime?: number }>();
  for (const { resource, fallbackTime } of items) {
    const r = obj(resource);
    if (r === undefined || r.resourceType !== 'Observation') continue;
    const what = measurementOf(r);
    if (what === undefined) continue;
    const time = dateOf(r.effectiveDateTime, r.effectivePeriod, r.issued) ?? fallbackTime;
    const readings = observationReadings(r);
    const single = list(r.component).length === 0 || obj(r.valueQuantity) !== undefined;
    for (const { label, reading } of readings) {
      const key = `${what.key}|${reading.unit}`;
      let series = byKey.get(key);
      if (series === undefined) {
        series = { title: what.title, unit: unitDisplay(reading.unit, loincCodes(r.code)[0]), ucum: reading.unit, lines: [] };
        byKey.set(key, series);
      }
      const lineLabel = single ? what.title : label;
      let line = series.lines.find((l) => l.label === lineLabel);
      if (line === undefined) {
        line = { label: lineLabel, points: [] };
        series.lines.push(line);
      }
      line.points.push({ time, value: reading.value });
      // The latest reading's range shades a one-value chart (blood pressure has two lines: none).
      if (single && reading.bounds !== undefined && reading.range !== undefined && time >= (series.bandTime ?? -Infinity)) {
        series.band = { ...reading.bounds, text: reading.range };
        series.bandTime = time;
      }
    }
  }
  const out: ChartSeries[] = [...byKey.values()].map(({ bandTime: _, ...series }) => series);
  for (const s of out) {
    s.lines.sort((a, b) => lineOrder(a.label) - lineOrder(b.label) || a.label.localeCompare(b.label));
    for (const l of s.lines) l.points.sort((a, b) => a.time - b.time || a.value - b.value);
  }
  // Same title in two units: say which is which.
  const doubled = new Set(out.filter((s) => out.some((o) => o !== s && o.title === s.title && o.unit !== s.unit)).map((s) => s.title));
  for (const s of out) if (doubled.has(s.title)) s.title = `${s.title} (${s.unit})`;
  return out.sort((a, b) => a.title.localeCompare(b.title));
}

/**
 * Round axis values for a chart from `min` to `max` (…, 100, 125, 150, …): the step of 1, 2,
 * 2.5 or 5 times a power of ten nearest a quarter of the span.
 */
export function niceTicks(min: number, max: number): number[] {
  const rough = (max - min) / 4;
  if (!(rough > 0)) return [min];
  const power = 10 ** Math.floor(Math.log10(rough));
  const steps = [1, 2, 2.5, 5, 10].map((m) => m * power);
  const step = steps.reduce((best, s) => (Math.abs(s - rough) < Math.abs(best - rough) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}
