import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { poly1305 } from '../../src/core/poly1305.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');
const zeros = (n: number): string => '00'.repeat(n);
const IETF_TEXT =
  'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "IETF Contribution". Such statements include oral statements in IETF sessions, as well as written and electronic communications made at any time or place, which are addressed to';

// Poly1305 by its definition (RFC 8439 §2.5.1), in BigInt: the reference the limb arithmetic is checked against.
function reference(key: Buffer, msg: Buffer): Buffer {
  const le = (b: Uint8Array): bigint => b.reduceRight((x, byte) => (x << 8n) | BigInt(byte), 0n);
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let h = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, i + 16);
    h = ((h + le(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  let t = (h + le(key.subarray(16, 32))) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, t >>= 8n) out[i] = Number(t & 0xffn);
  return out;
}

test('RFC 8439 §2.5.2: the Poly1305 test vector', () => {
  const key = hex('85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b');
  assert.equal(poly1305(key, Buffer.from('Cryptographic Forum Research Group')).toString('hex'), 'a8061dc1305136c6c22b8baf0c0127a9');
});

test('RFC 8439 appendix A.3: Poly1305 test vectors, including the reduction edge cases', () => {
  const vectors: Array<[name: string, key: string, msg: string, tag: string]> = [
    ['#1 all zero', zeros(32), zeros(64), zeros(16)],
    ['#2 r = 0', zeros(16) + '36e5f6b5c5e06070f0efca96227a863e', Buffer.from(IETF_TEXT).toString('hex'), '36e5f6b5c5e06070f0efca96227a863e'],
    ['#3 s = 0', '36e5f6b5c5e06070f0efca96227a863e' + zeros(16), Buffer.from(IETF_TEXT).toString('hex'), 'f3477e7cd95417af89a6b8794c310cf0'],
    ['#5 h reaches p', '02' + zeros(31), 'ff'.repeat(16), '03' + zeros(15)],
    ['#6 h + s wraps 2^128', '02' + zeros(15) + 'ff'.repeat(16), '02' + zeros(15), '03' + zeros(15)],
    ['#7 carry through the limbs', '01' + zeros(31), 'ff'.repeat(16) + 'f0' + 'ff'.repeat(15) + '11' + zeros(15), '05' + zeros(15)],
    ['#8 h becomes exactly p', '01' + zeros(31), 'ff'.repeat(16) + 'fb' + 'fe'.repeat(15) + '01'.repeat(16), zeros(16)],
    ['#9 h is p − 5 + …', '02' + zeros(31), 'fd' + 'ff'.repeat(15), 'fa' + 'ff'.repeat(15)],
    [
      '#10 5·H + L',
      '01' + zeros(7) + '04' + zeros(7) + zeros(16),
      'e33594d7505e43b9' + zeros(8) + '3394d7505e4379cd' + '01' + zeros(7) + zeros(16) + '01' + zeros(15),
      '14' + zeros(7) + '55' + zeros(7),
    ],
    ['#11 5·H + L, shorter', '01' + zeros(7) + '04' + zeros(7) + zeros(16), 'e33594d7505e43b9' + zeros(8) + '3394d7505e4379cd' + '01' + zeros(7) + zeros(16), '13' + zeros(15)],
  ];
  for (const [name, key, msg, tag] of vectors) {
    assert.equal(poly1305(hex(key), hex(msg)).toString('hex'), tag, name);
    assert.equal(reference(hex(key), hex(msg)).toString('hex'), tag, `${name} (reference)`);
  }
});

test('Poly1305 agrees with its BigInt definition on random and extreme keys and messages of every length', () => {
  for (let i = 0; i < 600; i++) {
    const key = i % 4 === 0 ? Buffer.alloc(32, 0xff) : randomBytes(32);
    const msg = i % 3 === 0 ? Buffer.alloc(i % 80, 0xff) : randomBytes(i % 97);
    assert.deepEqual(poly1305(key, msg), reference(key, msg), `case ${i}: ${msg.length} bytes`);
  }
});
