// Sharing in person (issue 17 item 5): a clinician shows a QR code; the patient scans it with
// their phone, which opens their Sharing page with the clinician's code filled in.
import { useState } from 'react';
import { QrCode } from '../qr.js';
import { NODE_URL } from '../session.js';

export function SharingQr(props: { id: string; name: string }) {
  const [shown, setShown] = useState(false);
  return (
    <div className="qr">
      <button type="button" className="secondary" aria-expanded={shown} onClick={() => setShown(!shown)}>
        {shown ? 'Hide my QR code' : 'Show my QR code for patients to scan'}
      </button>
      {shown && (
        <p>
          <QrCode text={`${NODE_URL}/sharing?with=${props.id}`} label={`QR code to share records with ${props.name}`} />
          <br />
          <span className="hint">A patient scans this with their phone’s camera to open their Sharing page with your code filled in.</span>
        </p>
      )}
    </div>
  );
}
