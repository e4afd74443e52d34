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

const scratch = new Float64Array(LIMBS);

/**
 * h ← (h + block) · r mod 2^130−5 for the 16-byte block at `off`, in place on the ten limbs of `h` at `base`.
 * `full` adds the 2^128 bit of a full block; a final partial block is padded by the caller (0x01, then zeros).
 */
export function polyBlock(key: PolyKey, h: Float64Array, base: number, b: Uint8Array, off: number, full: boolean): void {
  loadLimbs(h, b, off, base, true, full ? 1 << 11 : 0);
  const coef = key.coef;
  const d = scratch;
  for (let i = 0; i < LIMBS; i++) {
    let sum = 0;
    const row = i * LIMBS;
    for (let j = 0; j < LIMBS; j++) sum += h[base + j]! * coef[row + j]!;
    d[i] = sum;
  }
  // Carry through the limbs; what leaves the top limb is a multiple of 2^130, i.e. 5 times it at the bottom.
  let c = 0;
  for (let i = 0; i < LIMBS; i++) {
    const v = d[i]! + c;
    c = Math.floor(v / RADIX);
    h[base + i] = v - c * RADIX;
  }
  const v0 = h[base]! + c * 5;
  const c0 = Math.floor(v0 / RADIX);
  h[base] = v0 - c0 * RADIX;
  h[base + 1] = h[base + 1]! + c0;
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
