// MPEG-TS entry-point scanner (ISO/IEC 13818-1 §2.4.3): follows packet boundaries through a byte stream cut into
// arbitrary chunks and remembers where a decoder can start: the newest PAT, and the newest PAT that came before a
// video keyframe. It reads a few header bytes per packet and copies only a packet cut by a chunk edge (≤ 187 bytes).

export const TS_PACKET_BYTES = 188;
export const TS_SYNC_BYTE = 0x47;
const MAX_MISSES = 16;

/** A place in a chunked byte stream: chunk sequence number and byte offset inside that chunk. */
export interface StreamPoint {
  seq: number;
  off: number;
}

/**
 * Scans chunks in order. Positions are reported as (chunk seq, offset) so that a chunk ring can start a reader there.
 * Invariant: `#next` is the offset, in the next chunk, of the next packet boundary (-1: not synchronised).
 */
export class TsScanner {
  /** Newest PAT seen (payload_unit_start on PID 0), or null. */
  pat: StreamPoint | null = null;
  /** Newest PAT followed by a video keyframe: the best place for a decoder to start, or null. */
  entry: StreamPoint | null = null;
  #next = -1;
  /** True once the PAT in `pat` has been promoted to `entry` (a keyframe came after it). */
  #patUsed = false;
  /** The head of a packet cut by the previous chunk's edge, and where that packet starts. */
  readonly #carry = Buffer.alloc(TS_PACKET_BYTES);
  #carried = 0;
  #carrySeq = 0;
  #carryOff = 0;
  /** Chunks in a row without a packet boundary: after MAX_MISSES the bytes are taken not to be MPEG-TS. */
  #misses = 0;

  /** Forget the packet phase: the next chunk starts a new byte stream (another upstream connection). */
  resync(): void {
    this.#next = -1;
    this.#carried = 0;
    this.#misses = 0;
    this.pat = null;
    this.#patUsed = false;
  }

  /** Scans one chunk; returns the offset of its first packet boundary, or -1 when it is not MPEG-TS. */
  scan(chunk: Buffer, seq: number): number {
    const len = chunk.length;
    let p = this.#next;
    if (this.#carried > 0 && p > 0) {
      // The packet cut by a chunk edge: complete it in the carry buffer and inspect it whole.
      const take = Math.min(p, len);
      this.#carried += chunk.copy(this.#carry, this.#carried, 0, take);
      if (p > len) {
        this.#next = p - len; // a chunk shorter than the rest of the packet: no boundary in it
        return -1;
      }
      if (this.#carried === TS_PACKET_BYTES && (p === len || chunk[p] === TS_SYNC_BYTE)) {
        this.#inspect(this.#carry, 0, this.#carrySeq, this.#carryOff);
      }
    }
    this.#carried = 0;
    if (p < 0 || p >= len || chunk[p] !== TS_SYNC_BYTE) {
      // Not MPEG-TS (an audio stream, or garbage): stop searching every chunk for a sync byte until resync().
      if (this.#misses >= MAX_MISSES) {
        this.#next = -1; // a stale phase would hit a 0x47 by chance once in 256 chunks and start searching again
        return -1;
      }
      p = findSync(chunk, p < 0 || p >= len ? 0 : p);
      // A sync found where the chunk cannot show the next packet's sync byte is a guess, not a boundary seen twice:
      // random bytes end in a 0x47 about every other 64 KiB chunk, which kept a non-TS stream searching every chunk
      // (issue 10 item 8). Such a guess counts as a miss; the next chunk continuing its phase confirms it.
      this.#misses = p >= 0 && p + TS_PACKET_BYTES < len ? 0 : this.#misses + 1;
    } else {
      this.#misses = 0;
    }
    if (p < 0) {
      this.#next = -1;
      return -1;
    }
    const first = p;
    for (; p < len; p += TS_PACKET_BYTES) {
      if (chunk[p] !== TS_SYNC_BYTE) {
        // Lost sync inside the chunk (a splice or garbage): find the next run of packets.
        p = findSync(chunk, p);
        if (p < 0) {
          this.#next = -1;
          return first;
        }
      }
      if (p + TS_PACKET_BYTES <= len) {
        this.#inspect(chunk, p, seq, p);
      } else {
        // Cut by the chunk edge: keep its head (at most 187 bytes, into a buffer owned by the scanner).
        this.#carried = chunk.copy(this.#carry, 0, p, len);
        this.#carrySeq = seq;
        this.#carryOff = p;
      }
    }
    this.#next = p - len;
    return first;
  }

  /** One whole packet at `buf[p]`, which sits in the stream at (seq, off). */
  #inspect(buf: Buffer, p: number, seq: number, off: number): void {
    const b1 = buf[p + 1] ?? 0;
    if ((b1 & 0x40) === 0) return; // payload_unit_start_indicator: only a PAT or PES start matters
    const pid = ((b1 & 0x1f) << 8) | (buf[p + 2] ?? 0);
    if (pid === 0) {
      this.pat = { seq, off };
      this.#patUsed = false;
    } else if (this.pat !== null && !this.#patUsed && isVideoKeyframeStart(buf, p)) {
      this.entry = this.pat;
      this.#patUsed = true;
    }
  }
}

/** First offset at or after `from` where sync bytes repeat every 188 bytes (as far as the chunk shows), or -1. */
export function findSync(chunk: Buffer, from: number): number {
  const len = chunk.length;
  for (let i = chunk.indexOf(TS_SYNC_BYTE, from); i >= 0; i = chunk.indexOf(TS_SYNC_BYTE, i + 1)) {
    if (i + TS_PACKET_BYTES >= len || chunk[i + TS_PACKET_BYTES] === TS_SYNC_BYTE) {
      if (i + 2 * TS_PACKET_BYTES >= len || chunk[i + 2 * TS_PACKET_BYTES] === TS_SYNC_BYTE) return i;
    }
  }
  return -1;
}

/**
 * Whether the packet at `p` (payload_unit_start set, whole packet in `chunk`) starts a video PES that holds a
 * keyframe: random_access_indicator set (§2.4.3.5), or the start of the elementary stream is an H.264 SPS/IDR
 * or an MPEG-2 sequence header. A video PES is one with stream_id 0xE0–0xEF.
 */
export function isVideoKeyframeStart(chunk: Buffer, p: number): boolean {
  const afc = ((chunk[p + 3] ?? 0) >> 4) & 0x3;
  if ((afc & 0x1) === 0) return false; // no payload
  let payload = p + 4;
  let rai = false;
  if ((afc & 0x2) !== 0) {
    const afLen = chunk[p + 4] ?? 0;
    rai = afLen > 0 && ((chunk[p + 5] ?? 0) & 0x40) !== 0;
    payload = p + 5 + afLen;
  }
  const end = p + TS_PACKET_BYTES;
  if (payload + 9 > end) return false;
  if (chunk[payload] !== 0 || chunk[payload + 1] !== 0 || chunk[payload + 2] !== 1) return false;
  const streamId = chunk[payload + 3] ?? 0;
  if ((streamId & 0xf0) !== 0xe0) return false;
  if (rai) return true;
  // Elementary stream bytes after the PES header: look for a start code that only a keyframe begins with.
  const es = payload + 9 + (chunk[payload + 8] ?? 0);
  for (let i = es; i + 3 < end; i++) {
    if (chunk[i] !== 0 || chunk[i + 1] !== 0 || chunk[i + 2] !== 1) continue;
    const code = chunk[i + 3] ?? 0;
    if (code === 0xb3) return true; // MPEG-2 sequence_header
    if (code === 0x00) return false; // MPEG-2 picture_start without a sequence header before it
    if ((code & 0x80) !== 0) continue; // not an H.264 NAL header (forbidden_zero_bit set)
    const nal = code & 0x1f;
    if (nal === 5 || nal === 7) return true; // H.264 IDR slice or SPS
    if (nal === 1) return false; // H.264 non-IDR slice: the picture is not a keyframe
    i += 3;
  }
  return false;
}
