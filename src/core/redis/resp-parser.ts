// RESP2 reply parser: an incremental state machine over Buffers, so a reply split across TCP reads, or many
// replies merged in one read, parse the same. Bulk strings stay Buffers (binary-safe); only simple strings and
// errors become strings, because their type needs it.

/** A server error reply (`-ERR ...`), delivered as a value so the caller can match it to its command. */
export class RespErrorReply {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | Buffer | null | RespErrorReply | RespValue[];

const CR = 13;

interface Frame {
  items: RespValue[];
  left: number;
}

/** Feeds bytes in with `push`; every complete top-level reply goes to `onReply`, in order. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;
  private readonly stack: Frame[] = [];

  constructor(private readonly onReply: (value: RespValue) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.at < this.buf.length ? Buffer.concat([this.buf.subarray(this.at), chunk]) : chunk;
    this.at = 0;
    for (;;) {
      const start = this.at;
      const value = this.readOne();
      if (value === undefined) {
        this.at = start;
        break;
      }
      this.deliver(value);
    }
    if (this.at >= this.buf.length) {
      this.buf = Buffer.alloc(0);
      this.at = 0;
    }
  }

  /** Drops partial state, e.g. after the connection was lost mid-reply. */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.at = 0;
    this.stack.length = 0;
  }

  private deliver(value: RespValue | typeof OPEN_ARRAY): void {
    let v: RespValue | typeof OPEN_ARRAY = value;
    for (;;) {
      if (v === OPEN_ARRAY) return;
      const top = this.stack.at(-1);
      if (top === undefined) {
        this.onReply(v);
        return;
      }
      top.items.push(v);
      if (--top.left > 0) return;
      this.stack.pop();
      v = top.items;
    }
  }

  /** One value at `at`, or undefined when the bytes are not all there yet (nothing consumed then). */
  private readOne(): RespValue | typeof OPEN_ARRAY | undefined {
    const buf = this.buf;
    if (this.at >= buf.length) return undefined;
    const eol = buf.indexOf(CR, this.at + 1);
    if (eol < 0 || eol + 1 >= buf.length) return undefined;
    const type = buf[this.at];
    const lineStart = this.at + 1;
    switch (type) {
      case 0x2b: // +
        this.at = eol + 2;
        return buf.toString('utf8', lineStart, eol);
      case 0x2d: // -
        this.at = eol + 2;
        return new RespErrorReply(buf.toString('utf8', lineStart, eol));
      case 0x3a: // :
        this.at = eol + 2;
        return parseInteger(buf, lineStart, eol);
      case 0x24: { // $
        const len = parseInteger(buf, lineStart, eol);
        if (len < 0) {
          this.at = eol + 2;
          return null;
        }
        const dataStart = eol + 2;
        if (buf.length < dataStart + len + 2) return undefined;
        this.at = dataStart + len + 2;
        // A copy: the read buffer is reused by later concats, the caller may keep this value.
        return Buffer.from(buf.subarray(dataStart, dataStart + len));
      }
      case 0x2a: { // *
        const len = parseInteger(buf, lineStart, eol);
        this.at = eol + 2;
        if (len < 0) return null;
        if (len === 0) return [];
        this.stack.push({ items: [], left: len });
        return OPEN_ARRAY;
      }
      default:
        throw new Error(`RESP protocol error: unexpected type byte 0x${(type ?? 0).toString(16)}`);
    }
  }
}

const OPEN_ARRAY = Symbol('open-array');

function parseInteger(buf: Buffer, from: number, to: number): number {
  let i = from;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  let n = 0;
  for (; i < to; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) throw new Error('RESP protocol error: bad integer');
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

