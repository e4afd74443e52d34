// core/fanout-queue.ts: one upstream's chunks to many readers by reference, bounded memory, jumps for laggards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanoutQueue, type FanoutSink } from '../../src/core/fanout-queue.ts';
import { TS_PACKET_BYTES } from '../../src/core/ts/scan.ts';
import { packet } from '../helpers/ts-packets.ts';

/** A sink that takes `room` writes before it reports full; drain() makes room again. */
class Sink implements FanoutSink {
  chunks: Buffer[] = [];
  room: number;
  constructor(room = Infinity) {
    this.room = room;
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.room--;
    return this.room > 0;
  }
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

const chunkOf = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

test('every ready reader gets the same chunk objects, never copies', () => {
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  const a = new Sink();
  const b = new Sink();
  q.add(a);
  q.add(b);
  const c = chunkOf(1000, 1);
  q.append(c);
  assert.equal(a.chunks[0], c);
  assert.equal(b.chunks[0], c);
  assert.equal(q.ready, 2);
});

test('a blocked reader does not hold back the others, and memory stays within the bound', () => {
  const bound = 64 * 1024;
  let jumps = 0;
  const q = new FanoutQueue({ maxQueueBytes: bound, onJump: () => jumps++ });
  const fast = new Sink();
  const stuck = new Sink(1); // full after its first write, never drains
  q.add(fast);
  const stuckReader = q.add(stuck);
  for (let i = 0; i < 1000; i++) {
    q.append(chunkOf(1316, i & 0xff));
    assert.ok(q.retainedBytes <= bound + 1316, `retained ${q.retainedBytes} at chunk ${i}`);
  }
  assert.equal(fast.bytes, 1000 * 1316, 'the fast reader got everything');
  assert.equal(stuck.bytes, 1316, 'the stuck reader got what it took');
  assert.ok(stuckReader.jumps > 0 && jumps === stuckReader.jumps, 'the laggard jumped and the jumps were reported');
  assert.ok(stuckReader.skippedBytes > 0);
  assert.equal(q.ready, 1);
});

test('a drained reader continues from its position, or from the live edge after falling out of the ring', () => {
  const q = new FanoutQueue({ maxQueueBytes: 10_000 });
  const s = new Sink(1);
  const r = q.add(s);
  q.append(chunkOf(1000, 1)); // taken, then full
  q.append(chunkOf(1000, 2));
  s.room = Infinity;
  q.drained(r);
  assert.deepEqual(s.chunks.map((c) => c[0]), [1, 2], 'no byte lost within the bound');
  s.room = 1;
  q.append(chunkOf(1000, 3)); // taken, then full again
  for (let i = 0; i < 30; i++) q.append(chunkOf(1000, 4 + i));
  s.room = Infinity;
  q.drained(r);
  assert.ok(r.jumps >= 1);
  assert.equal(s.chunks.at(-1)?.[0], 4 + 29, 'caught up to the live edge');
  // Bytes received + bytes skipped = bytes of the stream from where it started.
  assert.equal(s.bytes + r.skippedBytes, q.endOffset);
});

test('a late joiner starts at the PAT before the newest keyframe, on a packet boundary', () => {
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  const video = [0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0, 0, 0, 0, 1, 0x65];
  const pat = packet({ pid: 0, pusi: true });
  const key = packet({ pid: 0x100, pusi: true, rai: true, payload: video });
  const fill = packet({ pid: 0x100 });
  const stream = Buffer.concat([fill, fill, pat, key, fill, fill, fill, pat, fill, fill]);
  // Cut at odd places: 300-byte chunks.
  for (let off = 0; off < stream.length; off += 300) q.append(stream.subarray(off, off + 300));
  const s = new Sink();
  q.add(s);
  const got = Buffer.concat(s.chunks);
  assert.deepEqual(got, stream.subarray(2 * TS_PACKET_BYTES), 'from the PAT before the keyframe to the live edge');
});

test('a joiner of a stream that is not TS starts with the next chunk, and no chunk is held for it', () => {
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  q.add(new Sink());
  for (let i = 0; i < 10; i++) q.append(chunkOf(500, i));
  // Issue 10 item 8: holding the newest chunk for a possible joiner kept every stream's last chunk alive across
  // scavenges (twice the full GCs with 100 streams); a joiner without a decodable start waits for the next chunk.
  assert.equal(q.retainedBytes, 0, 'nothing kept that no reader needs');
  const s = new Sink();
  q.add(s);
  assert.equal(s.chunks.length, 0);
  q.append(chunkOf(500, 10));
  assert.deepEqual(s.chunks.map((c) => c[0]), [10]);
});

test('a joiner of a TS stream without a PAT yet starts at the next chunk\'s first packet boundary', () => {
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  q.add(new Sink());
  const fill = packet({ pid: 0x100 });
  const stream = Buffer.concat(Array.from({ length: 12 }, () => fill));
  // 300-byte chunks: most start inside a packet.
  for (let off = 0; off < 600; off += 300) q.append(stream.subarray(off, off + 300));
  const s = new Sink();
  const r = q.add(s);
  q.append(stream.subarray(600, 900));
  const got = Buffer.concat(s.chunks);
  assert.equal(got[0], 0x47, 'starts on a sync byte');
  assert.deepEqual(got, stream.subarray(4 * TS_PACKET_BYTES, 900), 'from the first packet boundary of the next chunk');
  assert.equal(r.pos, 900);
});

test('removing readers keeps the ready count right', () => {
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  const a = q.add(new Sink(1));
  const b = q.add(new Sink());
  q.append(chunkOf(10, 1));
  assert.equal(q.ready, 1);
  q.remove(a);
  assert.equal(q.ready, 1);
  q.remove(b);
  assert.equal(q.ready, 0);
  assert.equal(q.readerCount, 0);
});

test('the ring wraps and grows: readers far apart keep every byte in order while many small chunks are held', () => {
  // Far more chunks than the ring's first slots, held at once (a blocked reader), then released as the ring wraps.
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  const fast = new Sink();
  const slow = new Sink(1);
  q.add(fast);
  const slowReader = q.add(slow);
  let n = 0;
  const next = (): Buffer => chunkOf(100 + (n % 7), n++ & 0xff);
  for (let i = 0; i < 500; i++) q.append(next()); // the slow reader holds 499 chunks: the ring doubles past its slots
  assert.equal(q.retainedBytes, q.endOffset - slow.bytes, 'everything after the slow reader is held');
  slow.room = Infinity;
  q.drained(slowReader);
  for (let round = 0; round < 20; round++) {
    slow.room = 3;
    for (let i = 0; i < 97; i++) q.append(next()); // wraps the ring many times with a moving window of held chunks
    slow.room = Infinity;
    q.drained(slowReader);
  }
  q.append(next()); // chunks are dropped on the next append once no reader needs them
  const expected = Buffer.concat(fast.chunks);
  assert.equal(expected.length, q.endOffset);
  assert.deepEqual(Buffer.concat(slow.chunks), expected, 'the slow reader got the same bytes in the same order');
  assert.equal(slowReader.jumps, 0);
  assert.equal(q.retainedBytes, 0, 'nothing held once every reader caught up');
});

test('a reader added at the end gets only what is appended after it, while a joiner still starts at the held PAT', () => {
  // The first viewer of a channel was sent its first bytes ahead (proxy-stream.ts): it must not get them twice, and
  // those bytes still open the stream for the next viewer.
  const q = new FanoutQueue({ maxQueueBytes: 1 << 20 });
  const pat = packet({ pid: 0, pusi: true });
  const fill = packet({ pid: 0x100 });
  const first = Buffer.concat([pat, fill]);
  q.append(first);
  const caughtUp = new Sink();
  q.add(caughtUp, true);
  assert.equal(caughtUp.chunks.length, 0, 'nothing written again');
  const next = Buffer.concat([fill, fill]);
  q.append(next);
  assert.deepEqual(caughtUp.chunks, [next]);
  const joiner = new Sink();
  q.add(joiner);
  assert.deepEqual(Buffer.concat(joiner.chunks), Buffer.concat([first, next]), 'the joiner starts at the PAT sent ahead');
});
