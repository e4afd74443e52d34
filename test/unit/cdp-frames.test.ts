// The e2e tests' WebSocket frames (test/helpers/cdp.ts): masked client frames, the three length forms, partial input.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeFrame, encodeFrame } from '../helpers/cdp.ts';

test('client frames are masked and decode back, at each length form boundary', () => {
  for (const len of [0, 1, 125, 126, 65_535, 65_536, 200_000]) {
    const payload = randomBytes(len);
    const frame = encodeFrame(0x1, payload);
    assert.equal(frame[0], 0x81, 'FIN + text');
    assert.ok(((frame[1] ?? 0) & 0x80) !== 0, 'mask bit set');
    const headLen = len < 126 ? 2 : len < 65_536 ? 4 : 10;
    assert.equal(frame.length, headLen + 4 + len);
    if (len >= 16) assert.notDeepEqual(frame.subarray(headLen + 4), payload, 'the payload is sent masked');
    const decoded = decodeFrame(frame);
    assert.ok(decoded);
    assert.deepEqual({ fin: decoded.fin, opcode: decoded.opcode, size: decoded.size }, { fin: true, opcode: 1, size: frame.length });
    assert.ok(decoded.payload.equals(payload), `payload of ${len} bytes`);
  }
});

test('an incomplete frame decodes to undefined; a server (unmasked) frame and what follows it are told apart', () => {
  const frame = encodeFrame(0x2, randomBytes(300));
  for (const cut of [0, 1, 3, 7, frame.length - 1]) assert.equal(decodeFrame(frame.subarray(0, cut)), undefined, `cut at ${cut}`);
  const server = Buffer.concat([Buffer.from([0x01, 0x03]), Buffer.from('abc'), Buffer.from([0x80, 0x01, 0x64])]);
  const first = decodeFrame(server);
  assert.deepEqual(first && { fin: first.fin, opcode: first.opcode, text: first.payload.toString(), size: first.size }, { fin: false, opcode: 1, text: 'abc', size: 5 });
  const second = decodeFrame(server.subarray(5));
  assert.deepEqual(second && { fin: second.fin, opcode: second.opcode, text: second.payload.toString() }, { fin: true, opcode: 0, text: 'd' });
});
