// ABCI socket framing (CometBFT v0.38 libs/protoio): each protobuf message is preceded by
// its length as an unsigned LEB128 varint. Pure byte functions; the server does the I/O.

/** Largest frame accepted from CometBFT; a block of 8 MiB of txs fits with room to spare. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Thrown when the byte stream cannot be framed; the connection is then closed. */
export class FramingError extends Error {
  readonly code = 'BAD_FRAME';
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** `message` with its unsigned varint length prefix. */
export function encodeFrame(message: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let n = message.length;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  prefix.push(n);
  const out = new Uint8Array(prefix.length + message.length);
  out.set(prefix, 0);
  out.set(message, prefix.length);
  return out;
}

/**
 * Reads an unsigned varint at `offset`: its value and byte length, or undefined when the
 * bytes end first. Throws FramingError past 5 bytes or MAX_FRAME_BYTES.
 */
export function readLength(bytes: Uint8Array, offset: number): { value: number; size: number } | undefined {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const b = bytes[offset + i];
    if (b === undefined) return undefined;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > MAX_FRAME_BYTES) throw new FramingError(`frame of ${value} bytes is over the ${MAX_FRAME_BYTES}-byte limit`);
      return { value, size: i + 1 };
    }
  }
  throw new FramingError('frame length varint is longer than 5 bytes');
}

/** Splits a byte stream, delivered in arbitrary chunks, into whole messages in order. */
export class FrameReader {
  private buffered: Uint8Array = new Uint8Array(0);

  /** Add a chunk; returns every message it completed (possibly none). Throws FramingError. */
  push(chunk: Uint8Array): Uint8Array[] {
    const bytes = this.buffered.length === 0 ? chunk : concat(this.buffered, chunk);
    const out: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const len = readLength(bytes, offset);
      if (len === undefined || offset + len.size + len.value > bytes.length) break;
      const start = offset + len.size;
      out.push(bytes.slice(start, start + len.value));
      offset = start + len.value;
    }
    this.buffered = bytes.slice(offset);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
