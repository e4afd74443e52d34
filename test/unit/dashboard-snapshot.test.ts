// The dashboard feed's snapshot (services/dashboard-snapshot.ts): exact totals, bounded lists, watched streams first,
// process groups in provider order and bounded even when a provider ignores the bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryRegistry, type StreamInput } from '../../src/core/registry.ts';
import {
  dashboardSnapshot, SNAPSHOT_MAX_CLIENTS, SNAPSHOT_MAX_CLIENTS_PER_STREAM, SNAPSHOT_MAX_PROCESSES, SNAPSHOT_MAX_STREAMS,
  type DashboardProcess, type ProcessProvider,
} from '../../src/services/dashboard-snapshot.ts';
import type { SharingView } from '../../src/services/stats.ts';

const input = (i: number, failover = false): StreamInput => ({
  url: `http://origin.test/${i}.ts`,
  failoverUrls: failover ? [`http://backup.test/${i}.ts`] : [],
  userAgent: null,
  headers: {},
  metadata: {},
  kind: 'direct',
});
const info = { userAgent: 'VLC/3.0', ip: '10.0.0.1', username: null };
const sharing: SharingView = { upstreamCount: (id) => (id.startsWith('watched') ? 1 : 0), viewers: () => 0, viewerOf: () => undefined };

test('a small registry: every stream and client, the clock, upstreams and bytes as they are', () => {
  const r = new MemoryRegistry(() => 1_000_000);
  const { stream } = r.upsertStream('watched-a', input(1, true));
  r.upsertStream('idle-b', input(2));
  const client = r.openSession(stream, 'client-1', info);
  r.addBytes(client, stream, 4096);
  const snap = dashboardSnapshot(r, sharing);
  assert.equal(snap.t, 1_000_000);
  assert.deepEqual([snap.total_streams, snap.total_clients, snap.total_upstream_connections, snap.total_bytes_served], [2, 1, 1, 4096]);
  assert.equal(snap.streams_truncated, false);
  const [a, b] = snap.streams;
  assert.deepEqual([a?.stream_id, a?.client_count, a?.bytes_served, a?.url_count, a?.has_failover, a?.upstream_connections], ['watched-a', 1, 4096, 2, true, 1]);
  assert.deepEqual(a?.clients, [{ client_id: 'client-1', ip_address: '10.0.0.1', user_agent: 'VLC/3.0', username: null, bytes_served: 4096, created_at: new Date(1_000_000).toISOString() }]);
  assert.deepEqual([b?.stream_id, b?.client_count, b?.has_failover, b?.url_count, b?.clients.length], ['idle-b', 0, false, 1, 0]);
});

test('a large registry: lists are cut at their bounds, streams with viewers first, totals stay exact', () => {
  const r = new MemoryRegistry();
  const idle = SNAPSHOT_MAX_STREAMS;
  for (let i = 0; i < idle; i++) r.upsertStream(`idle-${i}`, input(i));
  const watched = 20;
  const perStream = SNAPSHOT_MAX_CLIENTS_PER_STREAM + 10;
  for (let i = 0; i < watched; i++) {
    const { stream } = r.upsertStream(`watched-${i}`, input(1000 + i));
    for (let c = 0; c < perStream; c++) r.openSession(stream, `c-${i}-${c}`, info);
  }
  const snap = dashboardSnapshot(r, sharing);
  assert.equal(snap.total_streams, idle + watched);
  assert.equal(snap.total_clients, watched * perStream);
  assert.equal(snap.total_upstream_connections, watched);
  assert.equal(snap.streams.length, SNAPSHOT_MAX_STREAMS);
  assert.equal(snap.streams_truncated, true);
  assert.ok(snap.streams.slice(0, watched).every((s) => s.stream_id.startsWith('watched-') && s.client_count === perStream), 'watched streams first');
  const listed = snap.streams.reduce((n, s) => n + s.clients.length, 0);
  assert.equal(listed, SNAPSHOT_MAX_CLIENTS, 'the snapshot-wide client bound');
  assert.ok(snap.streams.every((s) => s.clients.length <= SNAPSHOT_MAX_CLIENTS_PER_STREAM));
  assert.ok(snap.streams.slice(0, watched).every((s) => s.clients_truncated), 'every watched stream says its list is cut');
  assert.ok(snap.streams.slice(watched).every((s) => !s.clients_truncated && s.clients.length === 0));
});

const proc = (i: number): DashboardProcess => ({
  id: `p-${i}`, status: 'running', pid: 1000 + i, started_at: new Date(0).toISOString(), stream_url: 'http://media.test/x?k=***',
  bytes_written: i, current_segment_number: null, error_message: null, stop: null,
});

test('process groups: none without providers; one per provider in order, asked for at most the bound, cut to it anyway', () => {
  const r = new MemoryRegistry();
  assert.deepEqual(dashboardSnapshot(r).processes, []);
  const asked: number[] = [];
  const many = SNAPSHOT_MAX_PROCESSES + 7;
  // This one ignores `max`, as a careless provider might: the snapshot still holds at most the bound.
  const greedy: ProcessProvider = { kind: 'transcode', title: 'Transcodes', list: (max) => (asked.push(max), { total: many, items: Array.from({ length: many }, (_, i) => proc(i)) }) };
  const small: ProcessProvider = { kind: 'broadcast', title: 'Broadcasts', list: () => ({ total: 2, items: [proc(1), proc(2)] }) };
  const none: ProcessProvider = { kind: 'other', title: 'Others', list: () => ({ total: 0, items: [] }) };
  const snap = dashboardSnapshot(r, undefined, [small, greedy, none]);
  assert.deepEqual(asked, [SNAPSHOT_MAX_PROCESSES]);
  assert.deepEqual(snap.processes.map((g) => [g.kind, g.title, g.total, g.truncated, g.items.length]), [
    ['broadcast', 'Broadcasts', 2, false, 2],
    ['transcode', 'Transcodes', many, true, SNAPSHOT_MAX_PROCESSES],
    ['other', 'Others', 0, false, 0],
  ]);
  assert.deepEqual(snap.processes[0]?.items, [proc(1), proc(2)]);
});
