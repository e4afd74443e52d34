// Telling an HLS playlist from media by the first bytes of a body (issues 12.2, 14.2, 14.4): the origin's
// Content-Type and the URL's suffix lie often enough that neither may decide alone whether a body is rewritten.

/**
 * 'playlist': M3U text with an #EXT tag near the start; 'media': a known container or elementary stream signature;
 * 'unknown': neither (encrypted segments, keys, JSON, HTML...); 'undecided': more bytes are needed.
 */
export type BodyKind = 'playlist' | 'media' | 'unknown';
export type SniffResult = BodyKind | 'undecided';

/** How far into a body an #EXT tag is looked for: leading comments and blank lines fit, a whole segment never. */
export const SNIFF_TEXT_BYTES = 1024;

const TS_PACKET = 188;
const M2TS_PACKET = 192;
const SYNC = 0x47;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SPACE = 0x20;
const HASH = 0x23;

// ISO/IEC 14496-12 box types that open a file or a fragment: ftyp (file), styp (segment), moof/sidx/emsg/prft
// (fragments and their indexes), moov/mdat/free/skip/wide/pdin/uuid (files written in another order).
const BMFF_BOXES: ReadonlySet<string> = new Set(['ftyp', 'styp', 'moof', 'sidx', 'emsg', 'prft', 'moov', 'mdat', 'free', 'skip', 'wide', 'pdin', 'uuid']);

/**
 * MPEG-TS (ISO/IEC 13818-1): the sync byte 0x47 at the start of every 188-byte packet (or at 4 in 192-byte M2TS
 * packets). Three packets must agree, so a text body that happens to start with 'G' is not taken for TS; a body that
 * ended sooner is judged on the packets it has.
 */
function sniffTs(b: Buffer, final: boolean): SniffResult | undefined {
  for (const [offset, size] of [[0, TS_PACKET], [4, M2TS_PACKET]] as const) {
    if (b.length <= offset || b[offset] !== SYNC) continue;
    let agreed = true;
    for (let k = 1; k <= 2 && agreed; k++) {
      const at = offset + k * size;
      if (at >= b.length) {
        if (!final) return 'undecided';
        break;
      }
      agreed = b[at] === SYNC;
    }
    if (agreed) return 'media';
  }
  return undefined;
}

/** ISO-BMFF (fMP4, CMAF, MP4): a 32-bit size then a known four-character box type. */
function sniffBmff(b: Buffer, final: boolean): SniffResult | undefined {
  if (b.length < 8) return final ? undefined : 'undecided';
  const size = b.readUInt32BE(0);
  // 0: box to the end of the file; 1: a 64-bit size follows; otherwise at least the 8 header bytes.
  if (size !== 0 && size !== 1 && size < 8) return undefined;
  return BMFF_BOXES.has(b.toString('latin1', 4, 8)) ? 'media' : undefined;
}

/**
 * Audio elementary streams and their wrappers: ID3v2 (HLS packed audio, RFC 8216 §3.4, starts with a timestamp tag),
 * ADTS AAC and MPEG audio (the 0xFFF / 0xFFE frame sync), AC-3 (0x0B77), Matroska/WebM (EBML), FLV.
 */
function sniffSignature(b: Buffer): boolean {
  const b0 = b[0];
  const b1 = b[1];
  if (b0 === undefined || b1 === undefined) return false;
  if (b0 === 0x49 && b1 === 0x44 && b[2] === 0x33) return b[3] !== undefined && b[3] !== 0xff; // 'ID3', version < 0xFF
  if (b0 === 0xff && (b1 & 0xe0) === 0xe0) return true;
  if (b0 === 0x0b && b1 === 0x77) return true;
  if (b0 === 0x1a && b1 === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return true;
  return b0 === 0x46 && b1 === 0x4c && b[2] === 0x56 && b[3] === 0x01; // 'FLV' version 1
}

/** True when the byte cannot appear in playlist text (RFC 8216 §4.1: UTF-8, no control characters but CR/LF/TAB). */
function isBinaryByte(c: number): boolean {
  return (c < SPACE && c !== LF && c !== CR && c !== TAB) || c === 0x7f;
}

/**
 * An M3U playlist (RFC 8216 §4.1): text whose first lines hold an #EXT tag (#EXTM3U first by the RFC, but origins
 * put comments, blank lines or a BOM before it, as some of the RFC's own examples do). Scans up to SNIFF_TEXT_BYTES.
 */
function sniffText(b: Buffer, final: boolean): SniffResult {
  let i = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const limit = Math.min(b.length, SNIFF_TEXT_BYTES);
  while (i < limit) {
    // Start of a line: skip its indentation, then look at its first character.
    while (i < limit && (b[i] === SPACE || b[i] === TAB || b[i] === CR)) i++;
    if (i >= limit) break;
    if (b[i] === HASH) {
      if (i + 4 > b.length) return final ? 'unknown' : 'undecided';
      // '#EXT' with case-insensitive letters: sloppy IPTV panels write #extm3u.
      if (((b[i + 1] ?? 0) | 0x20) === 0x65 && ((b[i + 2] ?? 0) | 0x20) === 0x78 && ((b[i + 3] ?? 0) | 0x20) === 0x74) return 'playlist';
    }
    // Any other line (a comment, a URI before the header): skip it, but no binary byte may appear on the way.
    while (i < limit && b[i] !== LF) {
      if (isBinaryByte(b[i] ?? 0)) return 'unknown';
      i++;
    }
    i++;
  }
  return final || b.length >= SNIFF_TEXT_BYTES ? 'unknown' : 'undecided';
}

/**
 * Classifies the first bytes of an (already decoded) body. `final` says the body has no more bytes (or no more
 * will be waited for): then the answer is never 'undecided'. Media signatures are tried first: TS sync bytes win
 * over a playlist Content-Type (issue 14.4), and no media signature starts with '#' or whitespace.
 */
export function sniffBody(head: Buffer, final = false): SniffResult {
  if (head.length === 0) return final ? 'unknown' : 'undecided';
  const ts = sniffTs(head, final);
  if (ts !== undefined) return ts;
  if (sniffSignature(head)) return 'media';
  const bmff = sniffBmff(head, final);
  if (bmff !== undefined) return bmff;
  return sniffText(head, final);
}
