// A line chart of one measured value over time, drawn as SVG at the width it is shown (so
// axis text stays legible on a phone), with the value under the pointer or finger read out,
// and the same numbers in a table for screen readers and anyone who prefers reading them.
import { type RefObject, useEffect, useRef, useState } from 'react';
import { roundForReading } from './clinical-values.js';
import type { ChartSeries } from './fhir-view.js';
import { niceTicks } from './measurements.js';
import { formatDate } from './ui.js';

/** Colours by line position; lines come in a fixed order (systolic first), so they never swap. */
const COLORS = ['#b3261e', '#0b5cad', '#1b7f3b', '#7a4bb0'];
const H = 240;
const PAD = { l: 52, r: 16, t: 16, b: 40 };

/** The width the chart's box has, followed as the window changes. */
function useWidth(): [RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(560);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const measure = () => setWidth(Math.max(260, Math.round(el.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function Chart(props: { series: ChartSeries; idPrefix: string }) {
  const { series } = props;
  const [box, W] = useWidth();
  const [picked, setPicked] = useState<number | undefined>(undefined);
  const points = series.lines.flatMap((l) => l.points);
  const times = [...new Set(points.map((p) => p.time))].sort((a, b) => a - b);
  const band = series.band;
  // The range's bounds are kept in view, so a reading far outside it still shows where it lies.
  const values = [
    ...points.map((p) => p.value),
    ...(band?.low !== undefined ? [band.low] : []),
    ...(band?.high !== undefined ? [band.high] : []),
  ];
  let tMin = Math.min(...times);
  let tMax = Math.max(...times);
  if (tMin === tMax) {
    tMin -= 86_400_000;
    tMax += 86_400_000;
  }
  const spread = Math.max(...values) - Math.min(...values);
  const vMin = Math.min(...values) - (spread === 0 ? 5 : spread * 0.15);
  const vMax = Math.max(...values) + (spread === 0 ? 5 : spread * 0.15);
  const x = (t: number) => PAD.l + ((t - tMin) / (tMax - tMin)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - vMin) / (vMax - vMin)) * (H - PAD.t - PAD.b);
  const ticks = niceTicks(vMin, vMax);
  const dateTicks = W < 420 ? [tMin, tMax] : [tMin, (tMin + tMax) / 2, tMax];
  const n = (v: number) => roundForReading(v, series.ucum);
  const latest = series.lines.map((l) => `${l.label} ${n(l.points.at(-1)?.value ?? 0)}`).join(', ');
  // The reading nearest the pointer (mouse hover or a tap).
  const pick = (clientX: number, svg: SVGSVGElement) => {
    const rect = svg.getBoundingClientRect();
    const at = tMin + ((clientX - rect.left - PAD.l) / (W - PAD.l - PAD.r)) * (tMax - tMin);
    let best = times[0];
    for (const t of times) if (Math.abs(t - at) < Math.abs((best ?? t) - at)) best = t;
    setPicked(best);
  };
  const readout =
    picked === undefined
      ? undefined
      : `${formatDate(picked)}: ${series.lines
          .map((l) => {
            const p = l.points.find((q) => q.time === picked);
            return p === undefined ? undefined : `${series.lines.length > 1 ? `${l.label} ` : ''}${n(p.value)}`;
          })
          .filter(Boolean)
          .join(', ')} ${series.unit}`;
  return (
    <figure className="chart">
      <figcaption>
        {series.title} <span className="unit">({series.unit})</span>
      </figcaption>
      <div ref={box} className="chart-box">
        <svg
          width={W}
          height={H}
          viewBox={`0 0 ${W} ${H}`}
          role="img"
          aria-label={`${series.title} over time, ${times.length} readings; latest: ${latest} ${series.unit}`}
          onPointerMove={(e) => pick(e.clientX, e.currentTarget)}
          onPointerDown={(e) => pick(e.clientX, e.currentTarget)}
        >
          {ticks.map((v) => (
            <g key={v}>
              <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} className="grid" />
              <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" className="axis">
                {n(v)}
              </text>
            </g>
          ))}
          {dateTicks.map((t, i) => (
            <text
              key={t}
              x={x(t)}
              y={H - 12}
              textAnchor={i === 0 ? 'start' : i === dateTicks.length - 1 ? 'end' : 'middle'}
              className="axis"
            >
              {formatDate(t)}
            </text>
          ))}
          {band !== undefined && (
            <rect
              x={PAD.l}
              width={W - PAD.l - PAD.r}
              y={y(Math.min(band.high ?? vMax, vMax))}
              height={Math.max(0, y(Math.max(band.low ?? vMin, vMin)) - y(Math.min(band.high ?? vMax, vMax)))}
              className="band"
            />
          )}
          {picked !== undefined && <line x1={x(picked)} x2={x(picked)} y1={PAD.t} y2={H - PAD.b} className="cursor" />}
          {series.lines.map((l, i) => (
            <g key={l.label}>
              <polyline
                fill="none"
                stroke={COLORS[i % COLORS.length]}
                strokeWidth={2.5}
                points={l.points.map((p) => `${x(p.time)},${y(p.value)}`).join(' ')}
              />
              {l.points.map((p) => (
                <circle
                  key={`${p.time}-${p.value}`}
                  cx={x(p.time)}
                  cy={y(p.value)}
                  r={p.time === picked ? 6 : 4}
                  fill={COLORS[i % COLORS.length]}
                />
              ))}
            </g>
          ))}
        </svg>
      </div>
      <p className="readout" aria-live="polite" data-testid="chart-readout">
        {readout ?? 'Point at or tap the chart to read a value.'}
      </p>
      {band !== undefined && (
        <p className="hint">
          <span className="swatch band-swatch" aria-hidden="true" /> Shaded: {band.text}
        </p>
      )}
      {series.lines.length > 1 && (
        <ul className="legend">
          {series.lines.map((l, i) => (
            <li key={l.label}>
              <span className="swatch" style={{ background: COLORS[i % COLORS.length] }} aria-hidden="true" /> {l.label}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>Show the numbers</summary>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{series.title} readings</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                {series.lines.map((l) => (
                  <th scope="col" key={l.label}>
                    {l.label} ({series.unit})
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map((t) => (
                <tr key={t}>
                  <td>{formatDate(t)}</td>
                  {series.lines.map((l) => {
                    const p = l.points.find((q) => q.time === t);
                    return <td key={l.label}>{p === undefined ? '—' : n(p.value)}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
