// Hand-made MPEG-TS packets (ISO/IEC 13818-1 §2.4.3.2) for unit tests of the TS scanner and the fan-out queue.
import { TS_PACKET_BYTES } from '../../src/core/ts/scan.ts';

export interface PacketSpec {
  pid: number;
  pusi?: boolean;
  /** random_access_indicator in an adaptation field. */
  rai?: boolean;
  /** Payload bytes after the header (and adaptation field). */
  payload?: number[];
}

/** One 188-byte TS packet. */
export function packet(spec: PacketSpec): Buffer {
  const b = Buffer.alloc(TS_PACKET_BYTES, 0xff);
  b[0] = 0x47;
  b[1] = (spec.pusi ? 0x40 : 0) | ((spec.pid >> 8) & 0x1f);
  b[2] = spec.pid & 0xff;
  let p = 4;
  if (spec.rai) {
    b[3] = 0x30; // adaptation field + payload
    b[4] = 1; // adaptation_field_length
    b[5] = 0x40; // random_access_indicator
    p = 6;
  } else {
    b[3] = 0x10;
  }
  for (const [i, v] of (spec.payload ?? []).entries()) b[p + i] = v;
  return b;
}

