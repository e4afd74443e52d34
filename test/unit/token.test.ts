import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createByteSink } from '../../src/core/byte-sink.ts';
import { createTokenSealer, extensionFor, openToken, sealToken, splitTokenFile, writeSegmentExtension } from '../../src/core/token.ts';
import { BadTokenError } from '../../src/errors.ts';

const SECRET = randomBytes(32);
const FIELDS = {
  url: 'http://user:pass@provider.example/live/u/p/123.ts?token=a%2Fb',
  streamId: '33ef51b8ad46bd85e23be0f91b74ce7b',
  clientId: 'client_0123456789abcdef',
  kind: 's' as const,
};

const isBadToken = (err: unknown): boolean => err instanceof BadTokenError && err.status === 403 && err.code === 'BAD_TOKEN';

test('§5.4 a sealed token opens to the same url, stream and client', () => {
  const token = sealToken(SECRET, FIELDS);
  assert.match(token, /^[A-Za-z0-9_-]+$/);
  assert.ok(!token.includes('provider'));
  assert.deepEqual(openToken(SECRET, token, FIELDS.streamId, 's'), FIELDS);
});

test('§5.4 every one-shot seal uses a fresh IV: equal inputs give different tokens that open alike', () => {
  const a = sealToken(SECRET, FIELDS);
  const b = sealToken(SECRET, { ...FIELDS });
  assert.notEqual(a, b);
  assert.deepEqual(openToken(SECRET, a, FIELDS.streamId, 's'), FIELDS);
  assert.deepEqual(openToken(SECRET, b, FIELDS.streamId, 's'), FIELDS);
});

test('§5.4 the memoised sealer gives equal inputs the same token; any different field a different one', () => {
  const sealer = createTokenSealer(SECRET);
  const token = sealer.seal(FIELDS);
  assert.equal(sealer.seal({ ...FIELDS }), token);
  assert.notEqual(sealer.seal({ ...FIELDS, clientId: 'client_other' }), token);
  assert.notEqual(sealer.seal({ ...FIELDS, url: `${FIELDS.url}&x` }), token);
  assert.notEqual(sealer.seal({ ...FIELDS, streamId: 'f'.repeat(32) }), token);
});

test('§5.4 tampering with any byte gives BadTokenError', () => {
  const raw = Buffer.from(sealToken(SECRET, FIELDS), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i] = (bad[i] ?? 0) ^ 0x01;
    assert.throws(() => openToken(SECRET, bad.toString('base64url'), FIELDS.streamId, 's'), isBadToken, `byte ${i}`);
  }
});

test('§5.4 a token sealed for another stream gives BadTokenError', () => {
  const token = sealToken(SECRET, FIELDS);
  assert.throws(() => openToken(SECRET, token, 'f'.repeat(32), 's'), isBadToken);
});

test('§5.4 issue 14: a token opens only under the kind it was sealed for (p/ replayed as s/ is refused)', () => {
  for (const kind of ['p', 's'] as const) {
    const other = kind === 'p' ? 's' : 'p';
    const token = sealToken(SECRET, { ...FIELDS, kind });
    assert.equal(openToken(SECRET, token, FIELDS.streamId, kind).kind, kind);
    assert.throws(() => openToken(SECRET, token, FIELDS.streamId, other), isBadToken, `${kind} as ${other}`);
    const sealer = createTokenSealer(SECRET);
    assert.equal(sealer.open(token, FIELDS.streamId, kind).url, FIELDS.url);
    assert.throws(() => sealer.open(token, FIELDS.streamId, other), isBadToken, `memoised ${kind} as ${other}`);
  }
});

test('§5.4 issue 12: playlist tokens are deterministic per (stream, client, url) even unmemoised; segment tokens are not', () => {
  const p = { ...FIELDS, url: 'http://provider.example/v/index.m3u8?u=1', kind: 'p' as const };
  const a = sealToken(SECRET, p);
  assert.equal(sealToken(SECRET, { ...p }), a, 'same fields, same token across sealers');
  assert.equal(createTokenSealer(SECRET, { cacheSize: 0 }).seal(p), a);
  assert.notEqual(sealToken(SECRET, { ...p, clientId: 'client_other' }), a);
  assert.notEqual(sealToken(SECRET, { ...p, streamId: 'f'.repeat(32) }), a);
  assert.notEqual(sealToken(SECRET, { ...p, url: `${p.url}&x` }), a);
  assert.notEqual(sealToken(randomBytes(32), p), a);
  assert.deepEqual(openToken(SECRET, a, p.streamId, 'p'), p);
  assert.ok(!a.includes('provider'));
});

test('§5.4 a token sealed under another secret gives BadTokenError', () => {
  const token = sealToken(randomBytes(32), FIELDS);
  assert.throws(() => openToken(SECRET, token, FIELDS.streamId, 's'), isBadToken);
});

test('§5.4 garbage, truncated, padded or oversized tokens give BadTokenError', () => {
  const token = sealToken(SECRET, FIELDS);
  for (const garbage of ['', 'x', 'not base64!', '....', token.slice(0, -1), token.slice(1), `${token}A`, `${token}=`, 'A'.repeat(40), 'A'.repeat(20_000)]) {
    assert.throws(() => openToken(SECRET, garbage, FIELDS.streamId, 's'), isBadToken, garbage.slice(0, 20));
  }
});

test('§5.4 the memoised sealer agrees with the one-shot functions and rejects the same way', () => {
  const sealer = createTokenSealer(SECRET, { cacheSize: 4 });
  const token = sealer.seal(FIELDS);
  assert.deepEqual(openToken(SECRET, token, FIELDS.streamId, 's'), FIELDS);
  assert.deepEqual(sealer.open(sealToken(SECRET, FIELDS), FIELDS.streamId, 's'), FIELDS);
  assert.equal(sealer.seal(FIELDS), token); // from the memo
  assert.deepEqual(sealer.open(token, FIELDS.streamId, 's'), FIELDS);
  assert.deepEqual(sealer.open(token, FIELDS.streamId, 's'), FIELDS); // from the memo
  assert.throws(() => sealer.open(token, 'f'.repeat(32), 's'), isBadToken); // the memo is keyed by stream too
  for (let i = 0; i < 20; i++) sealer.seal({ ...FIELDS, url: `${FIELDS.url}&n=${i}` }); // evictions
  const resealed = sealer.seal(FIELDS);
  assert.notEqual(resealed, token, 'evicted, so sealed anew under a fresh IV');
  assert.deepEqual(sealer.open(resealed, FIELDS.streamId, 's'), FIELDS);
  assert.deepEqual(sealer.open(token, FIELDS.streamId, 's'), FIELDS, 'the old token stays valid');
  const uncached = createTokenSealer(SECRET, { cacheSize: 0 });
  assert.deepEqual(uncached.open(uncached.seal(FIELDS), FIELDS.streamId, 's'), FIELDS);
});

test('§5.4 memo keys cannot collide across field boundaries', () => {
  const sealer = createTokenSealer(SECRET);
  const a = sealer.seal({ url: 'bhttp://x/', streamId: 's', clientId: 'a', kind: 's' });
  const b = sealer.seal({ url: 'http://x/', streamId: 's', clientId: 'ab', kind: 's' });
  assert.notEqual(a, b);
  assert.equal(sealer.open(b, 's', 's').clientId, 'ab');
});

test('§5.4 unicode client ids and long URLs round-trip', () => {
  const fields = { url: `https://x.example/${'a'.repeat(3000)}?é=1`, streamId: 'id', clientId: 'ïd-😀', kind: 's' as const };
  assert.deepEqual(openToken(SECRET, sealToken(SECRET, fields), 'id', 's'), fields);
});

test('§5.4 a secret shorter than 32 bytes is refused', () => {
  assert.throws(() => createTokenSealer(Buffer.alloc(16)), RangeError);
});

test('§5.4 extensionFor: short [a-z0-9] path extensions, defaults m3u8 (p) and ts (s)', () => {
  const cases: Array<[string, 'p' | 's', string]> = [
    ['http://h/a/seg.ts?x=1.mp4', 's', 'ts'],
    ['http://h/a/seg.M4S', 's', 'm4s'],
    ['http://h/a/audio.aac#t=1', 's', 'aac'],
    ['http://h/k/key.key', 's', 'key'],
    ['http://h/init.mp4', 's', 'mp4'],
    ['http://h/subs/1.vtt', 's', 'vtt'],
    ['http://h/live/123', 's', 'ts'],
    ['http://h/a.b/seg', 's', 'ts'],
    ['http://h/seg.toolong', 's', 'ts'],
    ['http://h/seg.t-s', 's', 'ts'],
    ['http://h/seg.', 's', 'ts'],
    ['http://h', 's', 'ts'],
    ['http://h/v/index.m3u8', 'p', 'm3u8'],
    ['http://h/v/index.php?c=1', 'p', 'm3u8'],
  ];
  for (const [url, kind, want] of cases) assert.equal(extensionFor(url, kind), want, url);
});

test('§5.4 splitTokenFile separates token and extension', () => {
  assert.deepEqual(splitTokenFile('AbC_-9.m4s'), { token: 'AbC_-9', ext: 'm4s' });
  assert.deepEqual(splitTokenFile('AbC'), { token: 'AbC', ext: '' });
  assert.equal(splitTokenFile('.ts'), undefined);
  assert.equal(splitTokenFile('a/b.ts'), undefined);
});

test('§5.4 a 20,000-segment playlist sealed twice (memo cold, then warm) gives identical tokens', () => {
  const sealer = createTokenSealer(SECRET);
  const urls = Array.from({ length: 20_000 }, (_, i) => `https://cdn.example/vod/seg_${i}.ts?sig=%2F${i}`);
  const first = urls.map((url) => sealer.seal({ ...FIELDS, url }));
  const second = urls.map((url) => sealer.seal({ ...FIELDS, url }));
  assert.deepEqual(first, second);
  assert.equal(new Set(first).size, urls.length);
});

// Issue 12 item 7: segment tokens come from a pooled AES-256-CTR keystream with a Poly1305-AES tag (token-ctr.ts).
// Token bytes: VERSION(1) | nonce(12) | counter(4, BE) | ciphertext | tag(16).
const SEG = { ...FIELDS, url: 'http://127.0.0.1:8080/hls/seg/0.ts' };
const segUrl = (i: number): string => `http://127.0.0.1:8080/hls/seg/${i}.ts`;

test('issue 12.7: version 3 tokens of both kinds; a version 2 token (or any other version byte) gives BadTokenError', () => {
  for (const kind of ['p', 's'] as const) {
    const raw = Buffer.from(sealToken(SECRET, { ...FIELDS, kind }), 'base64url');
    assert.equal(raw[0], 3, kind);
    for (const version of [1, 2, 4, 0]) {
      raw[0] = version;
      assert.throws(() => openToken(SECRET, raw.toString('base64url'), FIELDS.streamId, kind), isBadToken, `${kind} v${version}`);
    }
  }
});

test('issue 12.7: tampering with any byte of a pooled segment token or of a playlist token gives BadTokenError', () => {
  const sealer = createTokenSealer(SECRET, { cacheSize: 0 });
  for (const fields of [{ ...SEG, kind: 's' as const }, { ...SEG, kind: 'p' as const }, { ...SEG, url: `${SEG.url}?é=${'x'.repeat(40)}`, kind: 's' as const }]) {
    const token = sealer.seal(fields);
    assert.deepEqual(sealer.open(token, fields.streamId, fields.kind), fields);
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(raw);
        bad[i] = (bad[i] ?? 0) ^ bit;
        assert.throws(() => sealer.open(bad.toString('base64url'), fields.streamId, fields.kind), isBadToken, `${fields.kind} byte ${i} bit ${bit}`);
      }
    }
    // Truncated or extended by whole bytes (base64url of other lengths), too.
    assert.throws(() => sealer.open(raw.subarray(0, raw.length - 1).toString('base64url'), fields.streamId, fields.kind), isBadToken);
    assert.throws(() => sealer.open(Buffer.concat([raw, Buffer.alloc(1)]).toString('base64url'), fields.streamId, fields.kind), isBadToken);
  }
});

test('issue 12.7: a pooled segment token is bound to its kind, stream and client, and does not show the URL', () => {
  const sealer = createTokenSealer(SECRET, { cacheSize: 0 });
  const a = sealer.seal({ ...SEG, kind: 's' });
  assert.throws(() => sealer.open(a, SEG.streamId, 'p'), isBadToken, 'kind swap');
  assert.throws(() => sealer.open(a, 'f'.repeat(32), 's'), isBadToken, 'stream swap');
  assert.throws(() => sealer.open(a, 'f'.repeat(70_000), 's'), isBadToken, 'an absurdly long stream id is only a foreign one');
  const longId = { ...SEG, streamId: 's'.repeat(70_000), kind: 's' as const };
  assert.deepEqual(sealer.open(sealer.seal(longId), longId.streamId, 's'), longId);
  assert.throws(() => openToken(randomBytes(32), a, SEG.streamId, 's'), isBadToken, 'other secret');
  assert.ok(!Buffer.from(a, 'base64url').includes(Buffer.from('127.0.0.1')), 'the URL is encrypted');
  // Client swap: the client id is sealed in, so a token only ever opens to its own client; splicing another client's
  // ciphertext (same URL, same length) under this token's header or tag fails.
  const b = sealer.seal({ ...SEG, clientId: 'client_fedcba9876543210', kind: 's' });
  assert.equal(sealer.open(b, SEG.streamId, 's').clientId, 'client_fedcba9876543210');
  const ra = Buffer.from(a, 'base64url');
  const rb = Buffer.from(b, 'base64url');
  assert.equal(ra.length, rb.length);
  const spliced = Buffer.concat([ra.subarray(0, 17), rb.subarray(17, rb.length - 16), ra.subarray(ra.length - 16)]);
  assert.throws(() => sealer.open(spliced.toString('base64url'), SEG.streamId, 's'), isBadToken, 'client swap');
  const retagged = Buffer.concat([rb.subarray(0, rb.length - 16), ra.subarray(ra.length - 16)]);
  assert.throws(() => sealer.open(retagged.toString('base64url'), SEG.streamId, 's'), isBadToken, 'tag of another token');
});

test('issue 12.7: tokens from one keystream pool and from the pools after refills all open', () => {
  const sealer = createTokenSealer(SECRET, { cacheSize: 0, poolBlocks: 16 });
  const tokens = Array.from({ length: 200 }, (_, i) => sealer.seal({ ...SEG, url: segUrl(i) }));
  const nonces = new Set(tokens.map((t) => Buffer.from(t, 'base64url').subarray(1, 13).toString('hex')));
  assert.ok(nonces.size > 10, `${nonces.size} pools used`);
  tokens.forEach((t, i) => assert.equal(openToken(SECRET, t, SEG.streamId, 's').url, segUrl(i), `token ${i}`));
  // A URL longer than a whole pool gets a keystream of its own, and the pool goes on after it.
  const long = { ...SEG, url: `${SEG.url}?${'q'.repeat(1000)}` };
  assert.deepEqual(sealer.open(sealer.seal(long), SEG.streamId, 's'), long);
  assert.deepEqual(sealer.open(sealer.seal(SEG), SEG.streamId, 's'), SEG);
});

test('issue 12.7: no keystream block is ever used twice: per nonce, token block ranges are disjoint and increasing', () => {
  for (const poolBlocks of [7, 64, undefined]) {
    const sealer = createTokenSealer(SECRET, { cacheSize: 0, poolBlocks });
    const seen = new Map<string, number>(); // nonce → first counter not yet used
    for (let i = 0; i < 3000; i++) {
      const url = i % 100 === 99 ? `${segUrl(i)}?${'z'.repeat(i % 700)}` : segUrl(i);
      const raw = Buffer.from(sealer.seal({ ...SEG, url, clientId: `c${i % 3}` }), 'base64url');
      const nonce = raw.subarray(1, 13).toString('hex');
      const counter = raw.readUInt32BE(13);
      const blocks = 1 + Math.ceil((raw.length - 33) / 16); // the tag pad, then the ciphertext
      const next = seen.get(nonce);
      if (next === undefined) assert.equal(counter, 0, 'a new nonce starts at counter 0');
      else assert.ok(counter >= next, `block ${counter} of nonce ${nonce} reused (next free ${next})`);
      seen.set(nonce, counter + blocks);
    }
    assert.ok(seen.size >= 1);
  }
});

test('issue 12.7: the hash shared between consecutive seals never leaks into another token (mixed streams, clients, URLs)', () => {
  const sealer = createTokenSealer(SECRET, { cacheSize: 0, poolBlocks: 32 });
  const cases: (typeof FIELDS)[] = [];
  const urls = ['http://h/a/seg_1.ts', 'http://h/a/seg_12.ts', 'http://h/a/seg_1.ts?x', 'http://h/a/', 'http://h/a/sé_1.ts', 'http://h/a/sé_2.ts', `http://h/${'a'.repeat(33)}`, `http://h/${'a'.repeat(32)}`];
  for (let i = 0; i < 400; i++) {
    cases.push({ url: urls[i % urls.length]! + (i % 5 === 0 ? '' : String(i % 7)), streamId: i % 11 === 0 ? 'other' : FIELDS.streamId, clientId: i % 13 === 0 ? 'ïd' : 'c', kind: 's' });
  }
  const tokens = cases.map((f) => sealer.seal(f));
  cases.forEach((f, i) => assert.deepEqual(openToken(SECRET, tokens[i]!, f.streamId, 's'), f, `case ${i}`));
});

test('issue 12.7: a segment token sealed into bytes (directory and reference apart) opens to their join, mixed with string seals', () => {
  const sealer = createTokenSealer(SECRET, { cacheSize: 0, poolBlocks: 32 });
  const dirs = ['http://h/a/', 'http://h/a/', 'http://h/b/', '', 'http://h/é/', `http://h/${'d'.repeat(40)}/`];
  const refs = ['seg_1.ts', 'seg_12.ts', 'seg_1.ts?x=1', 'http://h/a/seg_1.ts', 'sé_2.ts', 'x'];
  const sink = createByteSink(16);
  const made: Array<{ fields: typeof FIELDS; start: number; end: number } | { fields: typeof FIELDS; token: string }> = [];
  for (let i = 0; i < 300; i++) {
    const dir = dirs[i % dirs.length]!;
    const ref = refs[(i * 7) % refs.length]! + (i % 4 === 0 ? '' : String(i % 9));
    const fields = { url: dir + ref, streamId: i % 11 === 0 ? 'other' : FIELDS.streamId, clientId: i % 13 === 0 ? 'ïd' : 'c', kind: 's' as const };
    if (i % 5 === 0) {
      made.push({ fields, token: sealer.seal(fields) });
      continue;
    }
    const start = sink.at;
    sealer.sealSegmentInto(sink, fields.streamId, fields.clientId, dir, ref);
    made.push({ fields, start, end: sink.at });
  }
  made.forEach((m, i) => {
    const token = 'token' in m ? m.token : sink.buf.toString('latin1', m.start, m.end);
    assert.deepEqual(openToken(SECRET, token, m.fields.streamId, 's'), m.fields, `case ${i}`);
  });
});

test('issue 12.7: writeSegmentExtension writes what extensionFor gives for the joined URL', () => {
  const refs = ['seg.ts', 'a/seg.M4S', 'seg.ts?x=1.mp4', 'audio.aac#t=1', 'key.key', '123', 'a.b/seg', 'seg.toolong', 'seg.t-s', 'seg.', 'x.MP4?y', 'a.ts/b'];
  for (const ref of refs) {
    const sink = createByteSink(1);
    writeSegmentExtension(sink, ref);
    assert.equal(sink.buf.toString('latin1', 0, sink.at), `.${extensionFor(`http://h/dir/${ref}`, 's')}`, ref);
  }
  // An absolute reference on the playlist's own host is written with an empty directory.
  for (const url of ['http://h.example/a/seg.TS?x=1.mp4', 'http://h.example/live/123', 'https://h.example:8443/v/init.mp4#t']) {
    const sink = createByteSink(1);
    writeSegmentExtension(sink, url);
    assert.equal(sink.buf.toString('latin1', 0, sink.at), `.${extensionFor(url, 's')}`, url);
  }
});
