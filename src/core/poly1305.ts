// Poly1305 (RFC 8439 §2.5; Bernstein, "The Poly1305-AES message-authentication code") in TypeScript: Node core has
// AES but no standalone Poly1305, and the segment tokens (token-ctr.ts) need a MAC that costs no native crypto object
// per call. Radix 2^22, six limbs, in plain JS numbers (exact integers below 2^53): limb i weighs 2^(22·i), and as
// 2^132 ≡ 20 (mod 2^130−5) a product landing past the top limb comes back ×20. Bounds: before a multiplication every
// limb of h is below 2^23 (a reduced limb plus a message limb), every limb of r below 2^22 (r < 2^124 once clamped),
// so one row of the product is at most 2^23·2^22 + 2^23·20·(4·2^22 + 2^14) < 2^52: exact, and its carries too.
// Unrolled, because this is the per-token hot path (a loop over a coefficient table ran four times slower).

/** Numbers per saved hash state (the six limbs of h). */
export const LIMBS = 6;
export const BLOCK = 16;
const MASK = 0x3fffff;
const RADIX = 4194304; // 2^22

/** The clamped r of a Poly1305 key, as limbs and the ×20 multiples the wrapped products use. */
export interface PolyKey {
  readonly r: Float64Array;
  readonly r20: Float64Array;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Clamps r (RFC 8439 §2.5.1) and splits it into limbs. */
export function polyKey(r16: Uint8Array): PolyKey {
  if (r16.length < 16) throw new RangeError('poly1305 r must be 16 bytes');
  const b = Uint8Array.from(r16.subarray(0, 16));
  b[3]! &= 15;
  b[7]! &= 15;
  b[11]! &= 15;
  b[15]! &= 15;
  b[4]! &= 252;
  b[8]! &= 252;
  b[12]! &= 252;
  const r = new Float64Array([
    u32(b, 0) & MASK,
    (u32(b, 2) >>> 6) & MASK,
    (u32(b, 5) >>> 4) & MASK,
    (u32(b, 8) >>> 2) & MASK,
    u32(b, 11) & MASK,
    (b[13]! | (b[14]! << 8) | (b[15]! << 16)) >>> 6,
  ]);
  return { r, r20: r.map((x) => x * 20) };
}

/**
 * h ← (h + block) · r mod 2^130−5 (partly reduced) for the 16 bytes at `off`, in place on the six limbs of `h` at
 * `base`. `full` adds the 2^128 bit of a full block; a final partial block is padded by the caller (0x01, zeros).
 */
export function polyBlock(key: PolyKey, h: Float64Array, base: number, b: Uint8Array, off: number, full: boolean): void {
  const h0 = h[base]! + (u32(b, off) & MASK);
  const h1 = h[base + 1]! + ((u32(b, off + 2) >>> 6) & MASK);
  const h2 = h[base + 2]! + ((u32(b, off + 5) >>> 4) & MASK);
  const h3 = h[base + 3]! + ((u32(b, off + 8) >>> 2) & MASK);
  const h4 = h[base + 4]! + (u32(b, off + 11) & MASK);
  const h5 = h[base + 5]! + (((b[off + 13]! | (b[off + 14]! << 8) | (b[off + 15]! << 16)) >>> 6) + (full ? 262144 : 0));
  const r = key.r;
  const s = key.r20;
  const r0 = r[0]!;
  const r1 = r[1]!;
  const r2 = r[2]!;
  const r3 = r[3]!;
  const r4 = r[4]!;
  const r5 = r[5]!;
  const s1 = s[1]!;
  const s2 = s[2]!;
  const s3 = s[3]!;
  const s4 = s[4]!;
  const s5 = s[5]!;
  const d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
  const d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
  const d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
  const d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
  const d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
  const d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
  // Carry up the limbs; what leaves the top one is a multiple of 2^132, i.e. 20 times it at the bottom.
  let k = Math.floor(d0 / RADIX);
  const l0 = d0 - k * RADIX;
  let v = d1 + k;
  k = Math.floor(v / RADIX);
  h[base + 1] = v - k * RADIX;
  v = d2 + k;
  k = Math.floor(v / RADIX);
  h[base + 2] = v - k * RADIX;
  v = d3 + k;
  k = Math.floor(v / RADIX);
  h[base + 3] = v - k * RADIX;
  v = d4 + k;
  k = Math.floor(v / RADIX);
  h[base + 4] = v - k * RADIX;
  v = d5 + k;
  k = Math.floor(v / RADIX);
  h[base + 5] = v - k * RADIX;
  v = l0 + k * 20;
  k = Math.floor(v / RADIX);
  h[base] = v - k * RADIX;
  h[base + 1] = h[base + 1]! + k;
}

/** Copies the six limbs at `from` (in `src`) to `to` (in `dst`). */
export function copyState(dst: Float64Array, to: number, src: Float64Array, from: number): void {
  for (let i = 0; i < LIMBS; i++) dst[to + i] = src[from + i]!;
}

/** Writes (h mod 2^130−5 + s) mod 2^128 to `out` at `at` (16 bytes, little-endian); `h` is left as it was. */
export function polyFinish(h: Float64Array, base: number, s: Uint8Array, sOff: number, out: Uint8Array, at: number): void {
  let x0 = h[base]!;
  let x1 = h[base + 1]!;
  let x2 = h[base + 2]!;
  let x3 = h[base + 3]!;
  let x4 = h[base + 4]!;
  let x5 = h[base + 5]!;
  // Full carry below 2^130 (limb 5 keeps 20 bits), folding the excess back as 5×; three passes settle it.
  for (let pass = 0; pass < 3; pass++) {
    x1 += x0 >>> 22;
    x0 &= MASK;
    x2 += x1 >>> 22;
    x1 &= MASK;
    x3 += x2 >>> 22;
    x2 &= MASK;
    x4 += x3 >>> 22;
    x3 &= MASK;
    x5 += x4 >>> 22;
    x4 &= MASK;
    x0 += (x5 >>> 20) * 5;
    x5 &= 0xfffff;
  }
  // g = h + 5; if it reaches 2^130 (h ≥ p), h mod p is g − 2^130. Selected by mask, not by branch.
  let g0 = x0 + 5;
  let g1 = x1 + (g0 >>> 22);
  g0 &= MASK;
  let g2 = x2 + (g1 >>> 22);
  g1 &= MASK;
  let g3 = x3 + (g2 >>> 22);
  g2 &= MASK;
  let g4 = x4 + (g3 >>> 22);
  g3 &= MASK;
  let g5 = x5 + (g4 >>> 22);
  g4 &= MASK;
  const keep = -(g5 >>> 20); // all ones when h ≥ p
  g5 &= 0xfffff;
  x0 = (x0 & ~keep) | (g0 & keep);
  x1 = (x1 & ~keep) | (g1 & keep);
  x2 = (x2 & ~keep) | (g2 & keep);
  x3 = (x3 & ~keep) | (g3 & keep);
  x4 = (x4 & ~keep) | (g4 & keep);
  x5 = (x5 & ~keep) | (g5 & keep);
  // The low 128 bits as four 32-bit words, plus s, carried.
  let c = ((x0 | (x1 << 22)) >>> 0) + u32(s, sOff);
  writeU32(out, at, c);
  c = Math.floor(c / 0x1_0000_0000) + (((x1 >>> 10) | (x2 << 12)) >>> 0) + u32(s, sOff + 4);
  writeU32(out, at + 4, c);
  c = Math.floor(c / 0x1_0000_0000) + (((x2 >>> 20) | (x3 << 2) | (x4 << 24)) >>> 0) + u32(s, sOff + 8);
  writeU32(out, at + 8, c);
  c = Math.floor(c / 0x1_0000_0000) + (((x4 >>> 8) | (x5 << 14)) >>> 0) + u32(s, sOff + 12);
  writeU32(out, at + 12, c);
}

function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/** Hashes `len` bytes of `msg` from `off` into the state at `base` (a last partial block padded per RFC 8439). */
export function polyUpdate(key: PolyKey, h: Float64Array, base: number, msg: Uint8Array, off: number, len: number): void {
  const end = off + len;
  const full = end - (len % BLOCK);
  for (let at = off; at < full; at += BLOCK) polyBlock(key, h, base, msg, at, true);
  if (full < end) {
    const last = new Uint8Array(BLOCK);
    last.set(msg.subarray(full, end));
    last[end - full] = 1;
    polyBlock(key, h, base, last, 0, false);
  }
}

/** One-shot Poly1305 of `msg` under a 32-byte one-time key r ‖ s (RFC 8439 §2.5); for tests and reference. */
export function poly1305(key32: Uint8Array, msg: Uint8Array): Buffer {
  const key = polyKey(key32.subarray(0, 16));
  const h = new Float64Array(LIMBS);
  polyUpdate(key, h, 0, msg, 0, msg.length);
  const out = Buffer.alloc(BLOCK);
  polyFinish(h, 0, key32, 16, out, 0);
  return out;
}
