import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkNetworkId, splitRangeSuffix, normaliseHeaders, headersArg, checkOutputDir, intField,
} from '../../src/services/broadcast/request.ts';

test('network_id: allowed characters only, 1..64', () => {
  assert.equal(checkNetworkId('abc-DEF_123'), 'abc-DEF_123');
  for (const bad of ['', '../x', 'a/b', 'a.b', 'x'.repeat(65)]) {
    assert.throws(() => checkNetworkId(bad), (e: { status: number }) => e.status === 400);
  }
});

test('#range= suffix becomes an offset (T28)', () => {
  assert.deepEqual(splitRangeSuffix('http://h/v.ts?static=true#range=1048576-'), { url: 'http://h/v.ts?static=true', offset: 1048576 });
  assert.deepEqual(splitRangeSuffix('http://h/v.ts'), { url: 'http://h/v.ts', offset: null });
});

test('headers: trimmed scalars, others 422, CR/LF refused', () => {
  assert.deepEqual(normaliseHeaders({ ' X-Plex-Token ': ' t ', N: 5, B: true }), { 'X-Plex-Token': 't', N: '5', B: 'true' });
  assert.equal(normaliseHeaders(null), null);
  assert.throws(() => normaliseHeaders({ A: { b: 1 } }), (e: { status: number }) => e.status === 422);
  assert.throws(() => normaliseHeaders({ A: 'x\r\nEvil: 1' }), (e: { status: number }) => e.status === 422);
  assert.equal(headersArg({ A: '1', B: '2' }), 'A: 1\r\nB: 2\r\n');
});

test('output_dir: only the broadcast dir or an allowed one', () => {
  assert.equal(checkOutputDir(null, '/tmp/b', []), null);
  assert.equal(checkOutputDir('/tmp/b/', '/tmp/b', []), '/tmp/b');
  assert.equal(checkOutputDir('/srv/dvr', '/tmp/b', ['/srv/dvr']), '/srv/dvr');
  assert.throws(() => checkOutputDir('/etc', '/tmp/b', ['/srv/dvr']), (e: { status: number }) => e.status === 400);
  assert.throws(() => checkOutputDir(7, '/tmp/b', []), (e: { status: number }) => e.status === 422);
});

test('int fields: default, digits, refusal', () => {
  assert.equal(intField({}, 'seek_seconds', 0), 0);
  assert.equal(intField({ seek_seconds: '12' }, 'seek_seconds', 0), 12);
  assert.throws(() => intField({ seek_seconds: -1 }, 'seek_seconds', 0));
  assert.throws(() => intField({ seek_seconds: 1.5 }, 'seek_seconds', 0));
});
