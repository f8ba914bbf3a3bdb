// A QR code drawn as SVG from the `qrcode` library's module matrix (ISO/IEC 18004), so it
// needs no canvas, no inline script and no image URL under the Content-Security-Policy.
import QRCode from 'qrcode';

/** The QR code of `text`, with `label` as its accessible name (what it carries, in words). */
export function QrCode(props: { text: string; label: string; size?: number }) {
  const { modules } = QRCode.create(props.text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const quiet = 4;
  let d = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (modules.get(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  const side = n + 2 * quiet;
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={props.label}
      viewBox={`0 0 ${side} ${side}`}
      width={props.size ?? 180}
      height={props.size ?? 180}
      shapeRendering="crispEdges"
      data-qr={props.text}
    >
      <rect width={side} height={side} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
