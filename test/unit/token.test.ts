import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createTokenSealer, extensionFor, openToken, sealToken, splitTokenFile } from '../../src/core/token.ts';
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
