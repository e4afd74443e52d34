// One live byte stream fanned out to many readers: a ring of the upstream's own chunks (shared by reference, never
// copied) with a read position per reader. Memory is bounded by maxQueueBytes for the whole stream, whatever the
// number of readers: a reader that falls further behind jumps forward to a decodable start near the live edge.
import { type StreamPoint, TsScanner } from './ts/scan.ts';

/** Where a reader's bytes go: write() takes a chunk reference and answers false when the reader is full. */
export interface FanoutSink {
  write(chunk: Buffer): boolean;
}

/** One reader's position and counters. Owned by the queue; the caller keeps it to call drained()/remove(). */
export class FanoutReader<S extends FanoutSink = FanoutSink> {
  /**
   * Next chunk to write, and the offset inside it (non-zero only right after a join or a jump; AT_FIRST_BOUNDARY when
   * the reader waits for a chunk not yet appended and starts at its first packet boundary).
   */
  seq = 0;
  off = 0;
  /** Stream byte offset of the reader's next byte. */
  pos = 0;
  /** Waiting for the sink to drain: write() answered false. */
  blocked = false;
  /** The queue's tick when the reader blocked (a coarse clock: no time is read per chunk). */
  blockedTick = 0;
  /** Bytes passed over by jumps to the live edge, and how many jumps. */
  skippedBytes = 0;
  jumps = 0;
  /** Position in the queue's reader array (swap-remove). */
  index = -1;

  constructor(readonly sink: S) {}
}

export interface FanoutOptions<S extends FanoutSink> {
  /** Bytes kept behind the live edge; a reader further behind than this jumps. */
  maxQueueBytes: number;
  /** Called after a reader jumped (counters, logs). */
  onJump?(reader: FanoutReader<S>, skippedBytes: number): void;
}

/** Ring slots to start with (a power of two); the ring doubles when a stream keeps more chunks than it has slots. */
const INITIAL_SLOTS = 64;
/** FanoutReader.off of a reader placed on a chunk not yet appended: start at that chunk's first packet boundary. */
const AT_FIRST_BOUNDARY = -1;

export class FanoutQueue<S extends FanoutSink = FanoutSink> {
  readonly scanner = new TsScanner();
  /** Coarse clock advanced by the owner's timer; compared with FanoutReader.blockedTick. */
  tick = 0;
  readonly #max: number;
  readonly #onJump: FanoutOptions<S>['onJump'];
  // Retained chunks [#first, #next) live in a circular buffer at index (seq & #mask): parallel arrays allocated once
  // (grown by doubling, never per chunk). Arrays that grew and were compacted as chunks came and went kept
  // reallocating their backing stores; with 100 channels those survived scavenges and were promoted (issue 10.8).
  #mask = INITIAL_SLOTS - 1;
  #chunks: Buffer[] = new Array<Buffer>(INITIAL_SLOTS).fill(EMPTY);
  /** Stream byte offset of each chunk's first byte (a double: a long-running channel passes 2^31 bytes). */
  #starts = new Float64Array(INITIAL_SLOTS);
  /** Offset of each chunk's first packet boundary, -1 when none. */
  #boundaries = new Int32Array(INITIAL_SLOTS);
  #first = 0;
  #next = 0;
  /** Stream byte offset after the newest chunk. */
  #end = 0;
  #readers: FanoutReader<S>[] = [];
  #ready = 0;

  constructor(options: FanoutOptions<S>) {
    this.#max = Math.max(1, options.maxQueueBytes);
    this.#onJump = options.onJump;
  }

  /** Readers not waiting for a drain: 0 means nobody can take a byte now (the owner may pause its source). */
  get ready(): number {
    return this.#ready;
  }

  get readerCount(): number {
    return this.#readers.length;
  }

  /** Bytes held in the ring (shared by every reader). */
  get retainedBytes(): number {
    return this.#first === this.#next ? 0 : this.#end - this.#starts[this.#first & this.#mask]!;
  }

  /** Total bytes appended so far. */
  get endOffset(): number {
    return this.#end;
  }

  readers(): readonly FanoutReader<S>[] {
    return this.#readers;
  }

  /** The next chunk starts a new byte stream (another upstream connection): packet phase and PAT are forgotten. */
  restart(): void {
    this.scanner.resync();
  }

  /** Hot path: one upstream chunk to every reader that can take it; lagging readers jump; old chunks are dropped. */
  append(chunk: Buffer): void {
    if (this.#next - this.#first > this.#mask) this.#grow();
    const seq = this.#next++;
    const slot = seq & this.#mask;
    this.#chunks[slot] = chunk;
    this.#starts[slot] = this.#end;
    this.#boundaries[slot] = this.scanner.scan(chunk, seq);
    this.#end += chunk.length;
    const limit = this.#end - this.#max;
    // Not `seq`: pinning the newest chunk until the next one arrives (for a joiner) kept every stream's last 64 KiB
    // alive across scavenges; with 100 streams V8 promoted them and ran twice the full GCs (issue 10 item 8). A joiner
    // that finds no decodable start waits for the next chunk instead (#joinPoint).
    let floor = this.#next;
    const readers = this.#readers;
    for (let i = 0; i < readers.length; i++) {
      const r = readers[i]!;
      if (!r.blocked) this.#writeFrom(r);
      else if (r.pos < limit) this.#jump(r);
      if (r.seq < floor) floor = r.seq;
    }
    const keep = this.#keepPoint(limit);
    if (keep !== null && keep.seq < floor) floor = keep.seq;
    this.#evictBefore(floor, limit);
  }

  /**
   * Adds a reader at the join point (a recent decodable start) and writes what it can take now. `atEnd`: after the
   * newest byte instead, for a reader that was given the stream so far by other means.
   */
  add(sink: S, atEnd = false): FanoutReader<S> {
    const r = new FanoutReader(sink);
    const at = atEnd ? { seq: this.#next, off: 0 } : this.#joinPoint();
    r.seq = at.seq;
    r.off = at.off;
    r.pos = this.#offsetOf(at.seq, at.off);
    r.index = this.#readers.length;
    this.#readers.push(r);
    this.#ready++;
    this.#writeFrom(r);
    return r;
  }

  /** The reader's sink drained: write on from its position (it may jump first if it fell out of the ring). */
  drained(r: FanoutReader<S>): void {
    if (!r.blocked || r.index < 0) return;
    r.blocked = false;
    this.#ready++;
    if (r.seq < this.#first) this.#jump(r);
    this.#writeFrom(r);
  }

  remove(r: FanoutReader<S>): void {
    const i = r.index;
    if (i < 0) return;
    const last = this.#readers.pop()!;
    if (last !== r) {
      this.#readers[i] = last;
      last.index = i;
    }
    r.index = -1;
    if (!r.blocked) this.#ready--;
    r.blocked = true;
  }

  /** Drops every chunk (the stream ended); readers stay attached. */
  clear(): void {
    this.#evictBefore(this.#next, this.#end);
  }

  #writeFrom(r: FanoutReader<S>): void {
    while (r.seq < this.#next) {
      const slot = r.seq & this.#mask;
      const c = this.#chunks[slot]!;
      if (r.off === AT_FIRST_BOUNDARY) {
        const b = this.#boundaries[slot]!;
        r.off = b > 0 ? b : 0;
        r.pos += r.off;
        if (r.jumps > 0) r.skippedBytes += r.off;
      }
      const piece = r.off === 0 ? c : c.subarray(r.off);
      r.seq++;
      r.off = 0;
      r.pos += piece.length;
      if (!r.sink.write(piece)) {
        // write() may have removed the reader (its sink closed): only a reader still attached counts as blocked.
        if (r.index >= 0 && !r.blocked) {
          r.blocked = true;
          r.blockedTick = this.tick;
          this.#ready--;
        }
        return;
      }
      if (r.index < 0) return;
    }
  }

  #jump(r: FanoutReader<S>): void {
    const to = this.#joinPoint();
    const at = this.#offsetOf(to.seq, to.off);
    const skipped = Math.max(0, at - r.pos);
    r.seq = to.seq;
    r.off = to.off;
    r.pos = at;
    r.skippedBytes += skipped;
    r.jumps++;
    this.#onJump?.(r, skipped);
  }

  #offsetOf(seq: number, off: number): number {
    if (seq >= this.#next) return this.#end;
    return this.#starts[seq & this.#mask]! + off;
  }

  /** The newest decodable start still within the bound (PAT before a keyframe, else a PAT), or null. */
  #keepPoint(limit: number): StreamPoint | null {
    const { entry, pat } = this.scanner;
    if (entry !== null && entry.seq >= this.#first && this.#offsetOf(entry.seq, entry.off) >= limit) return entry;
    if (pat !== null && pat.seq >= this.#first && this.#offsetOf(pat.seq, pat.off) >= limit) return pat;
    return null;
  }

  /**
   * Where a new or jumping reader starts: the keep point, else the newest chunk's first packet boundary while it is
   * still held, else the next chunk's first packet boundary (the very first reader: the stream's first byte).
   */
  #joinPoint(): StreamPoint {
    const keep = this.#keepPoint(this.#end - this.#max);
    if (keep !== null) return keep;
    const newest = this.#next - 1;
    if (newest < this.#first) return { seq: this.#next, off: this.#next === 0 ? 0 : AT_FIRST_BOUNDARY };
    const b = this.#boundaries[newest & this.#mask]!;
    return { seq: newest, off: b > 0 ? b : 0 };
  }

  /** Drops chunks before `floor`, and any chunk that ends at or before `limit` (the bound). */
  #evictBefore(floor: number, limit: number): void {
    while (this.#first < this.#next) {
      const slot = this.#first & this.#mask;
      if (this.#first >= floor && this.#starts[slot]! + this.#chunks[slot]!.length > limit) break;
      // Released now, so retained memory is what the ring holds, not what it once held.
      this.#chunks[slot] = EMPTY;
      this.#first++;
    }
  }

  /** Twice the slots, the retained chunks moved to their new places (rare: only a stream keeping more chunks). */
  #grow(): void {
    const size = (this.#mask + 1) * 2;
    const chunks = new Array<Buffer>(size).fill(EMPTY);
    const starts = new Float64Array(size);
    const boundaries = new Int32Array(size);
    for (let seq = this.#first; seq < this.#next; seq++) {
      const from = seq & this.#mask;
      const to = seq & (size - 1);
      chunks[to] = this.#chunks[from]!;
      starts[to] = this.#starts[from]!;
      boundaries[to] = this.#boundaries[from]!;
    }
    this.#chunks = chunks;
    this.#starts = starts;
    this.#boundaries = boundaries;
    this.#mask = size - 1;
  }
}

const EMPTY = Buffer.alloc(0);
