// core/state/state-file.ts: the format reads back what it writes, refuses anything torn or newer, keeps unknown fields.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MemoryRegistry } from '../../src/core/registry.ts';
import {
  chooseUrlSecret,
  decodeState,
  encodeState,
  STREAM_FIELDS,
  streamDefinition,
  unknownFields,
  webhookDefinition,
  type StateSnapshot,
} from '../../src/core/state/state-file.ts';
import { StateError } from '../../src/errors.ts';
import { parseWebhookInput } from '../../src/http/routes/webhooks.ts';
import { parseStreamInput } from '../../src/http/validate.ts';

function sample(): StateSnapshot {
  return {
    urlSecret: randomBytes(32).toString('base64'),
    streams: [
      {
        id: '33ef51b8ad46bd85e23be0f91b74ce7b',
        definition: { url: 'http://example.com/stream.m3u8', failover_urls: ['http://b.example/x.m3u8'], user_agent: null, headers: { Referer: 'r' }, metadata: { id: '7' } },
        currentIndex: 1,
        createdAt: Date.parse('2026-12-01T18:00:00.000Z'),
        running: true,
        extra: {},
      },
    ],
    webhooks: [{ definition: { url: 'http://hook.example/h', events: ['stream_started'], headers: { 'X-K': 'v' }, timeout: 5, retry_attempts: 2 } }],
    extra: {},
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StateError) return err.code;
    throw err;
  }
  return 'accepted';
}

test('a snapshot reads back exactly as written', () => {
  const s = sample();
  assert.deepEqual(decodeState(encodeState(s, Date.now())), s);
  const empty: StateSnapshot = { urlSecret: undefined, streams: [], webhooks: [], extra: {} };
  assert.deepEqual(decodeState(encodeState(empty, 0)), empty);
});

test('every truncation of a state file is refused as STATE_CORRUPT, never read as a smaller state', () => {
  const text = encodeState(sample(), 0).trimEnd();
  for (let cut = 0; cut < text.length; cut++) assert.equal(codeOf(() => decodeState(text.slice(0, cut))), 'STATE_CORRUPT', `cut at ${cut}`);
});

test('malformed state is STATE_CORRUPT, a higher version STATE_NEWER', () => {
  const entry = (e: Record<string, unknown>) => JSON.stringify({ version: 1, streams: [{ id: '33ef51b8ad46bd85e23be0f91b74ce7b', definition: {}, current_index: 0, created_at: '2026-01-01T00:00:00Z', ...e }] });
  for (const text of ['[]', 'null', '{}', '{"version":"1"}', '{"version":1,"streams":{}}', '{"version":1,"webhooks":[1]}', '{"version":1,"url_secret":"c2hvcnQ="}', entry({ id: 'x' }), entry({ current_index: -1 }), entry({ created_at: 'yesterday' }), entry({ definition: [] }), entry({ running: 'yes' })]) {
    assert.equal(codeOf(() => decodeState(text)), 'STATE_CORRUPT', text);
  }
  const twice = JSON.parse(entry({})) as { streams: unknown[] };
  twice.streams.push(twice.streams[0]);
  assert.equal(codeOf(() => decodeState(JSON.stringify(twice))), 'STATE_CORRUPT', 'a stream twice');
  assert.equal(codeOf(() => decodeState('{"version":2,"streams":[]}')), 'STATE_NEWER');
});

test('fields this version does not know are named, and written back as read', () => {
  const doc = JSON.parse(encodeState(sample(), 0)) as Record<string, unknown> & { streams: Record<string, unknown>[]; webhooks: Record<string, unknown>[] };
  doc['cluster'] = { node: 'a' };
  doc.streams[0]!['pinned'] = true;
  (doc.streams[0]!['definition'] as Record<string, unknown>)['future_flag'] = 'on';
  doc.webhooks[0]!['format'] = 'v2';
  const read = decodeState(JSON.stringify(doc));
  // What this version writes for each stream: the definition it reads back, written out again.
  const written = read.streams.map((s) => streamDefinition(new MemoryRegistry().upsertStream(s.id, parseStreamInput(s.definition)).stream));
  assert.deepEqual(unknownFields(read, written), ['cluster', 'streams[0].pinned', 'streams[0].definition.future_flag', 'webhooks[0].format']);
  const again = JSON.parse(encodeState(read, 0)) as typeof doc;
  assert.deepEqual(again['cluster'], { node: 'a' });
  assert.equal(again.streams[0]!['pinned'], true);
  assert.equal((again.streams[0]!['definition'] as Record<string, unknown>)['future_flag'], 'on');
  assert.equal(again.webhooks[0]!['format'], 'v2');
});

test('a stream definition is a POST /streams body the API validator reads back to the same input', () => {
  // Every field set, so a field stored under the wrong name cannot come back equal by being its default.
  const body = {
    url: 'http://o.example/a.ts',
    failover_urls: ['http://o.example/b.ts'],
    user_agent: 'UA/1',
    headers: { Cookie: 'c=1' },
    metadata: { id: 7, hd: true },
    failover_resolver_url: 'http://editor.example/resolve',
    strict_live_ts: true,
    use_sticky_session: true,
    share_upstream: false,
    enable_silence_detection: true,
    silence_threshold_db: -50,
  };
  const input = parseStreamInput(body);
  const { stream } = new MemoryRegistry().upsertStream('id', input);
  const definition = streamDefinition(stream);
  assert.deepEqual(parseStreamInput(definition), input);
  // Every stored field is one the validator reads: a misnamed field would silently come back as its default.
  const read = new Set<string>();
  const spy = new Proxy(definition, { get: (target, key) => (typeof key === 'string' && read.add(key), Reflect.get(target, key)) });
  parseStreamInput(spy);
  for (const key of Object.keys(definition)) assert.ok(read.has(key), `the validator never reads ${key}`);
  for (const [field, writer] of Object.entries(STREAM_FIELDS)) {
    if (typeof writer === 'string') assert.ok(writer in definition, `${field} is not written`);
  }
  assert.equal(definition['enable_silence_detection'], true, 'the silence fields flatten back into the body');
});

test('a webhook definition is a POST /webhooks body that reads back to the same target', () => {
  const target = parseWebhookInput({ url: 'http://h.example/x', events: ['client_connected'], headers: { 'X-K': 'v' }, timeout: 2.5, retry_attempts: 0 });
  assert.deepEqual(parseWebhookInput(webhookDefinition(target)), target);
});

test('URL_SECRET: configured wins, else the kept one, else the generated one is kept; a kept key is never dropped', () => {
  const configuredKey = randomBytes(32);
  const generatedKey = randomBytes(32);
  const configured = { key: () => configuredKey, random: false };
  const generated = { key: () => generatedKey, random: true };
  const stored = randomBytes(32).toString('base64');
  const chosen = (c: typeof configured, s: string | undefined): { key: Buffer; keep: string | undefined; source: string } => {
    const r = chooseUrlSecret(c, s);
    return { ...r, key: r.key() };
  };
  assert.deepEqual(chosen(configured, undefined), { key: configuredKey, keep: undefined, source: 'configured' });
  assert.deepEqual(chosen(configured, stored), { key: configuredKey, keep: stored, source: 'configured' });
  assert.deepEqual(chosen(generated, stored), { key: Buffer.from(stored, 'base64'), keep: stored, source: 'state' });
  assert.deepEqual(chosen(generated, undefined), { key: generatedKey, keep: generatedKey.toString('base64'), source: 'generated' });
});
