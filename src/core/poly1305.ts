// Poly1305 (RFC 8439 §2.5; Bernstein, "The Poly1305-AES message-authentication code") in TypeScript: Node core has
// AES but no standalone Poly1305, and the segment tokens (token-ctr.ts) need a MAC that costs no native crypto object
// per call. Radix 2^13, ten limbs, as in poly1305-donna-16: every product of a limb of h (< 2^14.1) and of 5·r
// (< 2^15.4) is below 2^30, a row of ten below 2^34, so plain JS numbers (exact to 2^53) hold every value exactly.

/** Limbs of the accumulator h; a Float64Array of LIMBS per saved state. */
export const LIMBS = 10;
export const BLOCK = 16;
const MASK = 0x1fff;
const RADIX = 8192;

/** The clamped r of a Poly1305 key as a multiplication table: coef[i*10+j] multiplies h_j into d_i. */
export interface PolyKey {
  readonly coef: Float64Array;
}

/** Clamps r (RFC 8439 §2.5.1) and precomputes the products' coefficients (2^130 ≡ 5 mod p wraps the high limbs). */
export function polyKey(r16: Uint8Array): PolyKey {
  if (r16.length < 16) throw new RangeError('poly1305 r must be 16 bytes');
  const r = Uint8Array.from(r16.subarray(0, 16));
  r[3]! &= 15;
  r[7]! &= 15;
  r[11]! &= 15;
  r[15]! &= 15;
  r[4]! &= 252;
  r[8]! &= 252;
  r[12]! &= 252;
  const limbs = new Float64Array(LIMBS);
  loadLimbs(limbs, r, 0, 0, false);
  const coef = new Float64Array(LIMBS * LIMBS);
  for (let i = 0; i < LIMBS; i++) {
    for (let j = 0; j < LIMBS; j++) coef[i * LIMBS + j] = j <= i ? limbs[i - j]! : 5 * limbs[LIMBS + i - j]!;
  }
  return { coef };
}

function word(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

// Adds (or sets) the 16 bytes at `off` as ten 13-bit limbs; `hibit` adds 2^128 (a full block's appended 1 bit).
function loadLimbs(h: Float64Array, b: Uint8Array, off: number, base: number, add: boolean, hibit = 0): void {
  const t0 = word(b, off);
  const t1 = word(b, off + 2);
  const t2 = word(b, off + 4);
  const t3 = word(b, off + 6);
  const t4 = word(b, off + 8);
  const t5 = word(b, off + 10);
  const t6 = word(b, off + 12);
  const t7 = word(b, off + 14);
  const m0 = t0 & MASK;
  const m1 = ((t0 >>> 13) | (t1 << 3)) & MASK;
  const m2 = ((t1 >>> 10) | (t2 << 6)) & MASK;
  const m3 = ((t2 >>> 7) | (t3 << 9)) & MASK;
  const m4 = ((t3 >>> 4) | (t4 << 12)) & MASK;
  const m5 = (t4 >>> 1) & MASK;
  const m6 = ((t4 >>> 14) | (t5 << 2)) & MASK;
  const m7 = ((t5 >>> 11) | (t6 << 5)) & MASK;
  const m8 = ((t6 >>> 8) | (t7 << 8)) & MASK;
  const m9 = (t7 >>> 5) | hibit;
  const k = add ? 1 : 0;
  h[base] = h[base]! * k + m0;
  h[base + 1] = h[base + 1]! * k + m1;
  h[base + 2] = h[base + 2]! * k + m2;
  h[base + 3] = h[base + 3]! * k + m3;
  h[base + 4] = h[base + 4]! * k + m4;
  h[base + 5] = h[base + 5]! * k + m5;
  h[base + 6] = h[base + 6]! * k + m6;
  h[base + 7] = h[base + 7]! * k + m7;
  h[base + 8] = h[base + 8]! * k + m8;
  h[base + 9] = h[base + 9]! * k + m9;
}

/**
 * h ← (h + block) · r mod 2^130−5 for the 16-byte block at `off`, in place on the ten limbs of `h` at `base`.
 * `full` adds the 2^128 bit of a full block; a final partial block is padded by the caller (0x01, then zeros).
 * Unrolled: this is the per-token hot loop (a loop over the table ran four times slower in V8).
 */
export function polyBlock(key: PolyKey, h: Float64Array, base: number, b: Uint8Array, off: number, full: boolean): void {
  loadLimbs(h, b, off, base, true, full ? 1 << 11 : 0);
  const c = key.coef;
  const h0 = h[base + 0]!;
  const h1 = h[base + 1]!;
  const h2 = h[base + 2]!;
  const h3 = h[base + 3]!;
  const h4 = h[base + 4]!;
  const h5 = h[base + 5]!;
  const h6 = h[base + 6]!;
  const h7 = h[base + 7]!;
  const h8 = h[base + 8]!;
  const h9 = h[base + 9]!;
  const d0 = h0 * c[0]! + h1 * c[1]! + h2 * c[2]! + h3 * c[3]! + h4 * c[4]! + h5 * c[5]! + h6 * c[6]! + h7 * c[7]! + h8 * c[8]! + h9 * c[9]!;
  const d1 = h0 * c[10]! + h1 * c[11]! + h2 * c[12]! + h3 * c[13]! + h4 * c[14]! + h5 * c[15]! + h6 * c[16]! + h7 * c[17]! + h8 * c[18]! + h9 * c[19]!;
  const d2 = h0 * c[20]! + h1 * c[21]! + h2 * c[22]! + h3 * c[23]! + h4 * c[24]! + h5 * c[25]! + h6 * c[26]! + h7 * c[27]! + h8 * c[28]! + h9 * c[29]!;
  const d3 = h0 * c[30]! + h1 * c[31]! + h2 * c[32]! + h3 * c[33]! + h4 * c[34]! + h5 * c[35]! + h6 * c[36]! + h7 * c[37]! + h8 * c[38]! + h9 * c[39]!;
  const d4 = h0 * c[40]! + h1 * c[41]! + h2 * c[42]! + h3 * c[43]! + h4 * c[44]! + h5 * c[45]! + h6 * c[46]! + h7 * c[47]! + h8 * c[48]! + h9 * c[49]!;
  const d5 = h0 * c[50]! + h1 * c[51]! + h2 * c[52]! + h3 * c[53]! + h4 * c[54]! + h5 * c[55]! + h6 * c[56]! + h7 * c[57]! + h8 * c[58]! + h9 * c[59]!;
  const d6 = h0 * c[60]! + h1 * c[61]! + h2 * c[62]! + h3 * c[63]! + h4 * c[64]! + h5 * c[65]! + h6 * c[66]! + h7 * c[67]! + h8 * c[68]! + h9 * c[69]!;
  const d7 = h0 * c[70]! + h1 * c[71]! + h2 * c[72]! + h3 * c[73]! + h4 * c[74]! + h5 * c[75]! + h6 * c[76]! + h7 * c[77]! + h8 * c[78]! + h9 * c[79]!;
  const d8 = h0 * c[80]! + h1 * c[81]! + h2 * c[82]! + h3 * c[83]! + h4 * c[84]! + h5 * c[85]! + h6 * c[86]! + h7 * c[87]! + h8 * c[88]! + h9 * c[89]!;
  const d9 = h0 * c[90]! + h1 * c[91]! + h2 * c[92]! + h3 * c[93]! + h4 * c[94]! + h5 * c[95]! + h6 * c[96]! + h7 * c[97]! + h8 * c[98]! + h9 * c[99]!;
  // Carry through the limbs; what leaves the top limb is a multiple of 2^130, i.e. 5 times it at the bottom.
  // Every d is below 2^35 and non-negative, so (d / 2^13) | 0 is its floor.
  let v = d0;
  let k = (v / RADIX) | 0;
  const l0 = v - k * RADIX;
  v = d1 + k;
  k = (v / RADIX) | 0;
  h[base + 1] = v - k * RADIX;
  v = d2 + k;
  k = (v / RADIX) | 0;
  h[base + 2] = v - k * RADIX;
  v = d3 + k;
  k = (v / RADIX) | 0;
  h[base + 3] = v - k * RADIX;
  v = d4 + k;
  k = (v / RADIX) | 0;
  h[base + 4] = v - k * RADIX;
  v = d5 + k;
  k = (v / RADIX) | 0;
  h[base + 5] = v - k * RADIX;
  v = d6 + k;
  k = (v / RADIX) | 0;
  h[base + 6] = v - k * RADIX;
  v = d7 + k;
  k = (v / RADIX) | 0;
  h[base + 7] = v - k * RADIX;
  v = d8 + k;
  k = (v / RADIX) | 0;
  h[base + 8] = v - k * RADIX;
  v = d9 + k;
  k = (v / RADIX) | 0;
  h[base + 9] = v - k * RADIX;
  v = l0 + k * 5;
  k = (v / RADIX) | 0;
  h[base] = v - k * RADIX;
  h[base + 1] = h[base + 1]! + k;
}

/** Copies the ten limbs at `from` (in `src`) to `to` (in `dst`). */
export function copyState(dst: Float64Array, to: number, src: Float64Array, from: number): void {
  for (let i = 0; i < LIMBS; i++) dst[to + i] = src[from + i]!;
}

const fin = new Int32Array(LIMBS);
const alt = new Int32Array(LIMBS);

/** Writes (h mod 2^130−5 + s) mod 2^128 to `out` at `at` (16 bytes, little-endian); `h` is left as it was. */
export function polyFinish(h: Float64Array, base: number, s: Uint8Array, sOff: number, out: Uint8Array, at: number): void {
  const x = fin;
  for (let i = 0; i < LIMBS; i++) x[i] = h[base + i]!;
  // Full carry, folding what leaves the top limb back in as 5×; three passes leave every limb below 2^13.
  for (let pass = 0; pass < 3; pass++) {
    let c = 0;
    for (let i = 0; i < LIMBS; i++) {
      x[i]! += c;
      c = x[i]! >>> 13;
      x[i]! &= MASK;
    }
    x[0]! += c * 5;
  }
  // g = h + 5 − 2^130; when g ≥ 0 (h ≥ p) h becomes g. Selected by mask, not by branch.
  const g = alt;
  let c = 5;
  for (let i = 0; i < LIMBS - 1; i++) {
    g[i] = x[i]! + c;
    c = g[i]! >>> 13;
    g[i]! &= MASK;
  }
  const g9 = x[9]! + c - RADIX;
  const keep = ~(g9 >> 31); // all ones when g ≥ 0
  g[9] = g9 & MASK;
  for (let i = 0; i < LIMBS; i++) x[i] = (x[i]! & ~keep) | (g[i]! & keep);
  const w = [
    (x[0]! | (x[1]! << 13)) & 0xffff,
    ((x[1]! >>> 3) | (x[2]! << 10)) & 0xffff,
    ((x[2]! >>> 6) | (x[3]! << 7)) & 0xffff,
    ((x[3]! >>> 9) | (x[4]! << 4)) & 0xffff,
    ((x[4]! >>> 12) | (x[5]! << 1) | (x[6]! << 14)) & 0xffff,
    ((x[6]! >>> 2) | (x[7]! << 11)) & 0xffff,
    ((x[7]! >>> 5) | (x[8]! << 8)) & 0xffff,
    ((x[8]! >>> 8) | (x[9]! << 5)) & 0xffff,
  ];
  let carry = 0;
  for (let i = 0; i < 8; i++) {
    const v = w[i]! + word(s, sOff + 2 * i) + carry;
    carry = v >>> 16;
    out[at + 2 * i] = v & 0xff;
    out[at + 2 * i + 1] = (v >>> 8) & 0xff;
  }
}

/** One-shot Poly1305 of `msg` under a 32-byte one-time key r ‖ s (RFC 8439 §2.5); for tests and reference. */
export function poly1305(key32: Uint8Array, msg: Uint8Array): Buffer {
  const key = polyKey(key32.subarray(0, 16));
  const h = new Float64Array(LIMBS);
  const full = msg.length - (msg.length % BLOCK);
  for (let off = 0; off < full; off += BLOCK) polyBlock(key, h, 0, msg, off, true);
  if (full < msg.length) {
    const last = new Uint8Array(BLOCK);
    last.set(msg.subarray(full));
    last[msg.length - full] = 1;
    polyBlock(key, h, 0, last, 0, false);
  }
  const out = Buffer.alloc(BLOCK);
  polyFinish(h, 0, key32, 16, out, 0);
  return out;
}
