// A line chart of one measured value over time, drawn as SVG, with the same numbers in a
// table for screen readers and anyone who prefers reading them.
import type { ChartSeries } from './fhir-view.js';
import { formatDate } from './ui.js';

const COLORS = ['#0b5cad', '#b3261e', '#1b7f3b', '#7a4bb0'];
const W = 560;
const H = 220;
const PAD = { l: 48, r: 16, t: 16, b: 36 };

export function Chart(props: { series: ChartSeries; idPrefix: string }) {
  const { series } = props;
  const points = series.lines.flatMap((l) => l.points);
  const times = points.map((p) => p.time);
  const values = points.map((p) => p.value);
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
  const ticks = [vMin, (vMin + vMax) / 2, vMax];
  const titleId = `${props.idPrefix}-title`;
  const latest = series.lines.map((l) => `${l.label} ${l.points.at(-1)?.value ?? ''}`).join(', ');
  return (
    <figure className="chart">
      <figcaption id={titleId}>
        {series.title} <span className="unit">({series.unit})</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${series.title} over time, ${points.length} readings; latest: ${latest} ${series.unit}`}
      >
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} className="grid" />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" className="axis">
              {Math.round(v)}
            </text>
          </g>
        ))}
        <text x={PAD.l} y={H - 10} className="axis">
          {formatDate(tMin)}
        </text>
        <text x={W - PAD.r} y={H - 10} textAnchor="end" className="axis">
          {formatDate(tMax)}
        </text>
        {series.lines.map((l, i) => (
          <g key={l.label}>
            <polyline
              fill="none"
              stroke={COLORS[i % COLORS.length]}
              strokeWidth={2.5}
              points={l.points.map((p) => `${x(p.time)},${y(p.value)}`).join(' ')}
            />
            {l.points.map((p) => (
              <circle key={`${p.time}-${p.value}`} cx={x(p.time)} cy={y(p.value)} r={4} fill={COLORS[i % COLORS.length]} />
            ))}
          </g>
        ))}
      </svg>
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
            {[...new Set(points.map((p) => p.time))]
              .sort((a, b) => a - b)
              .map((t) => (
                <tr key={t}>
                  <td>{formatDate(t)}</td>
                  {series.lines.map((l) => (
                    <td key={l.label}>{l.points.find((p) => p.time === t)?.value ?? '—'}</td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
