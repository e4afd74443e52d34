// One fetch of a playlist as the rewrite memo records it: each reference and the proxy URI it was given, as bytes in
// off-heap Buffers. Thousands of remembered URIs as JS strings survived scavenges and were copied by the GC on every
// first fetch of a big playlist (issue 12 item 7); bytes cost it nothing.
//
// URIs recorded as bytes of another buffer (the rewriter's output, or the last fetch's generation) are not copied one
// by one: a copy per URI cost more than sealing it. They are taken as one span, gaps (the EXTINF lines between them)
// included, when the span ends. A long span stays where it is, and its buffer is kept (shared): the output of a big
// playlist is never copied, and a reload shares the last fetch's buffers. A short one (a live window) is copied into
// blocks of its own, so that a small playlist does not keep a big output buffer. Both sources never change bytes they
// gave. Measured interleaved on a cold 20,000-segment fetch: copying the output cost 5–15 % more (three runs), and one
// buffer grown by doubling instead of fixed blocks ~8 ms more.
import { grownBuffer, type ByteSink } from '../../core/byte-sink.ts';

const MIN_BYTES = 8192;
/**
 * A generation's first buffers: small enough to come from Node's Buffer pool (a live window's URIs fit), so that a
 * playlist request allocates nothing of its own until end() fits them; a big playlist then grows by MIN_BYTES steps.
 */
const FIRST_BYTES = 1024;
/** Bytes between two URIs of one span beyond which the span is cut: a span must not copy much that is not a URI. */
const MAX_GAP = 1024;
/** URI bytes per copied block once a generation outgrows its first one. */
const BLOCK_BYTES = 256 * 1024;
/** A span at least this long is shared rather than copied; a shorter one would keep a buffer far bigger than it uses. */
const ADOPT_BYTES = 32 * 1024;

/** Nothing allocated yet: a playlist request that remembers nothing (a master playlist) costs no buffers. */
const NONE = Buffer.alloc(0);

const grown = (buf: Buffer, used: number, bytes: number): Buffer => grownBuffer(buf, used, bytes, buf.length === 0 ? FIRST_BYTES : MIN_BYTES);

/** Slack a generation keeps in a buffer at most, in bytes or as a share of the buffer, before it is copied to fit. */
const MAX_SLACK_BYTES = 512;

/**
 * `buf` cut to its first `used` bytes, copied to a buffer of its own when it would keep much more memory alive: a
 * live window's memo used ~1 KiB of its two 8 KiB buffers, and 1024 client memos (DEFAULT_MEMO_CONTEXTS) kept 17 MB
 * (issue 24 item 7). Judged on the memory behind the buffer: a slice of Node's Buffer pool keeps a whole slab alive.
 */
function fitted(buf: Buffer, used: number): Buffer {
  const held = buf.buffer.byteLength;
  const slack = held - used;
  if (slack <= MAX_SLACK_BYTES || 4 * slack <= held) return buf;
  const out = Buffer.allocUnsafeSlow(used);
  buf.copy(out, 0, 0, used);
  return out;
}

export class Generation {
  count = 0;
  /** References back to back, one char per byte: reference i is refs[refEnd[i], refEnd[i + 1]). */
  private refs: Buffer = NONE;
  private refEnd = new Int32Array(65);
  /**
   * URI i is [uriAt[2i], uriAt[2i + 1]) of block uriBlock[i], or for i ≥ pendingFrom the same range of `src`, not yet
   * copied. Blocks before the current one are in `blocks`; the current one is `data`, filled up to `used`.
   */
  private data: Buffer = NONE;
  private used = 0;
  private readonly blocks: Buffer[] = [];
  private uriAt = new Int32Array(128);
  private uriBlock = new Int32Array(64);
  private src: Buffer | undefined;
  /** Buffers this one shares: uriBlock −1 − k is adopted[k]. */
  private readonly adopted: Buffer[] = [];
  private spanEnd = 0;
  private pendingFrom = 0;
  private index: Map<string, number> | undefined;

  /** Appends an entry whose URI is a string. */
  add(ref: string, uri: string): void {
    this.flush();
    this.room(3 * uri.length);
    const at = this.used;
    const bytes = this.data.write(uri, at, 'utf8');
    this.used += bytes;
    this.push(ref, at, this.used);
    this.uriBlock[this.count - 1] = this.blocks.length;
  }

  /** Appends an entry whose URI is bytes [start, end) of `src`, which must keep them until this generation ends. */
  addBytes(ref: string | undefined, src: Buffer, start: number, end: number, refSrc?: Buffer, refFrom = 0, refTo = 0): void {
    if (src !== this.src || start < this.spanEnd || start - this.spanEnd > MAX_GAP) {
      this.flush();
      this.src = src;
      this.pendingFrom = this.count;
    }
    this.spanEnd = end;
    this.push(ref, start, end, refSrc, refFrom, refTo);
  }

  /** Appends entry `i` of a generation that has ended. */
  addFrom(g: Generation, i: number): void {
    this.addBytes(undefined, g.holder(i), g.uriAt[2 * i]!, g.uriAt[2 * i + 1]!, g.refs, g.refEnd[i]!, g.refEnd[i + 1]!);
  }

  /** Whether entry i's reference is `ref`. */
  is(i: number, ref: string): boolean {
    const from = this.refEnd[i]!;
    if (this.refEnd[i + 1]! - from !== ref.length) return false;
    const refs = this.refs;
    // From the end: references of one playlist tend to differ last (seg_1.ts, seg_2.ts...).
    for (let k = ref.length - 1; k >= 0; k--) if (refs[from + k] !== ref.charCodeAt(k)) return false;
    return true;
  }

  /** Where `ref` first is, or -1; the index is built once, by the first lookup that needs it. */
  find(ref: string): number {
    if (this.index === undefined) {
      this.index = new Map();
      for (let i = this.count - 1; i >= 0; i--) this.index.set(this.ref(i), i);
    }
    return this.index.get(ref) ?? -1;
  }

  uri(i: number): string {
    return this.holder(i).toString('utf8', this.uriAt[2 * i]!, this.uriAt[2 * i + 1]!);
  }

  copyUri(i: number, sink: ByteSink): void {
    const from = this.uriAt[2 * i]!;
    const to = this.uriAt[2 * i + 1]!;
    if (sink.copy !== undefined) {
      const holder = this.holder(i);
      // The current block is still written past `used` while this generation records (copyIn, add).
      sink.copy(holder, from, to, holder === this.data ? this.used : holder.length);
      return;
    }
    sink.room(to - from);
    sink.at += this.holder(i).copy(sink.buf, sink.at, from, to);
  }

  /** The generation is complete: what is pending is taken, and what the buffers hold beyond their use given back. */
  end(): void {
    this.flush();
    this.trim();
  }

  private trim(): void {
    this.data = fitted(this.data, this.used);
    this.refs = fitted(this.refs, this.refEnd[this.count]!);
  }

  private ref(i: number): string {
    return this.refs.toString('latin1', this.refEnd[i]!, this.refEnd[i + 1]!);
  }

  private holder(i: number): Buffer {
    if (i >= this.pendingFrom && this.src !== undefined) return this.src;
    const b = this.uriBlock[i]!;
    if (b < 0) return this.adopted[-1 - b]!;
    return b === this.blocks.length ? this.data : this.blocks[b]!;
  }

  /** Makes `bytes` fit in the current block: the first block grows, up to BLOCK_BYTES; past it, a new block. */
  private room(bytes: number): void {
    if (this.used + bytes <= this.data.length) return;
    if (this.blocks.length === 0 && this.used + bytes <= BLOCK_BYTES) {
      this.data = grown(this.data, this.used, bytes);
      return;
    }
    this.blocks.push(this.data);
    this.data = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, bytes));
    this.used = 0;
  }

  /** Records an entry: its reference as a string, or (`ref` undefined) as bytes [refFrom, refTo) of `refSrc`. */
  private push(ref: string | undefined, uriStart: number, uriEnd: number, refSrc?: Buffer, refFrom = 0, refTo = 0): void {
    const c = this.count;
    if (2 * c + 2 > this.uriAt.length) {
      const next = new Int32Array(2 * this.uriAt.length);
      next.set(this.uriAt);
      this.uriAt = next;
      const ends = new Int32Array(this.uriAt.length / 2 + 1);
      ends.set(this.refEnd);
      this.refEnd = ends;
      const blocks = new Int32Array(this.uriAt.length / 2);
      blocks.set(this.uriBlock);
      this.uriBlock = blocks;
    }
    let at = this.refEnd[c]!;
    this.refs = grown(this.refs, at, ref === undefined ? refTo - refFrom : ref.length);
    const refs = this.refs;
    if (ref !== undefined) for (let k = 0; k < ref.length; k++) refs[at++] = ref.charCodeAt(k);
    else if (refSrc !== undefined) for (let k = refFrom; k < refTo; k++) refs[at++] = refSrc[k]!;
    this.refEnd[c + 1] = at;
    this.uriAt[2 * c] = uriStart;
    this.uriAt[2 * c + 1] = uriEnd;
    this.count = c + 1;
  }

  /** Takes the pending span: a long one is shared where it is, a short one copied into the blocks. */
  private flush(): void {
    const src = this.src;
    if (src === undefined) return;
    this.src = undefined;
    const from = this.pendingFrom;
    this.pendingFrom = this.count;
    const span = this.spanEnd - this.uriAt[2 * from]!;
    // Shared only when the span is most of what the buffer holds: a few URIs must not keep a big buffer alive.
    if (span >= ADOPT_BYTES && 4 * span >= src.buffer.byteLength) {
      this.adopted.push(src);
      this.uriBlock.fill(-this.adopted.length, from, this.count);
    } else {
      this.copyIn(src, from, this.count);
    }
    this.spanEnd = 0;
  }

  /** Copies the URIs of entries [first, last) from `src` into the blocks, in runs that fit, and moves them there. */
  private copyIn(src: Buffer, first: number, last: number): void {
    const at = this.uriAt;
    const spanEnd = at[2 * last - 1]!;
    let i = first;
    while (i < last) {
      const runStart = at[2 * i]!;
      this.room(Math.max(at[2 * i + 1]! - runStart, Math.min(spanEnd - runStart, BLOCK_BYTES)));
      const limit = runStart + this.data.length - this.used;
      let j = i + 1;
      while (j < last && at[2 * j + 1]! <= limit) j++;
      const runEnd = at[2 * j - 1]!;
      src.copy(this.data, this.used, runStart, runEnd);
      const delta = this.used - runStart;
      const block = this.blocks.length;
      for (let k = i; k < j; k++) {
        at[2 * k] = at[2 * k]! + delta;
        at[2 * k + 1] = at[2 * k + 1]! + delta;
        this.uriBlock[k] = block;
      }
      this.used += runEnd - runStart;
      i = j;
    }
  }
}
