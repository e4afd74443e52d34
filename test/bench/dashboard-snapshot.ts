// The cost of one dashboard snapshot (GET /ui/events builds and serialises one per second while a dashboard is open):
// 2,000 streams, 1,000 of them with 10 viewers, and a full group of processes (100 broadcasts). Run: node --import tsx test/bench/dashboard-snapshot.ts
import { MemoryRegistry } from '../../src/core/registry.ts';
import { dashboardSnapshot, SNAPSHOT_MAX_PROCESSES, type DashboardProcess, type ProcessProvider } from '../../src/services/dashboard-snapshot.ts';
import { median } from './stats.ts';

const registry = new MemoryRegistry();
const info = { userAgent: 'VLC/3.0.20 LibVLC/3.0.20', ip: '192.168.1.20', username: null };
for (let i = 0; i < 2_000; i++) {
  const { stream } = registry.upsertStream(`stream-${i}`, {
    url: `http://provider.example/live/user/pass/${i}.ts`,
    failoverUrls: [`http://backup.example/live/${i}.ts`],
    userAgent: null,
    headers: {},
    metadata: {},
    kind: 'direct',
  });
  if (i < 1_000) for (let c = 0; c < 10; c++) registry.addBytes(registry.openSession(stream, `client_${i}_${c}`, info), stream, 1_000_000);
}
const processes: DashboardProcess[] = Array.from({ length: SNAPSHOT_MAX_PROCESSES }, (_, i) => ({
  id: `network-${i}`, status: 'running', pid: 10_000 + i, started_at: new Date().toISOString(),
  stream_url: `http://jellyfin.example:8096/Videos/${i}/stream.ts?static=***&api_key=***`, bytes_written: 1e9,
  current_segment_number: 12_345, error_message: null, stop: { method: 'POST', path: `broadcast/network-${i}/stop` },
}));
const broadcasts: ProcessProvider = { kind: 'broadcast', title: 'Broadcasts', list: (max) => ({ total: processes.length, items: processes.slice(0, max) }) };
const times: number[] = [];
let bytes = 0;
for (let k = 0; k < 120; k++) {
  const t0 = performance.now();
  bytes = Buffer.byteLength(JSON.stringify(dashboardSnapshot(registry, undefined, [broadcasts])));
  // The first runs warm the JIT up.
  if (k >= 20) times.push(performance.now() - t0);
}
console.log(`one snapshot: median ${median(times).toFixed(2)} ms, ${(bytes / 1024).toFixed(0)} KiB (2000 streams, 1000 with 10 viewers, 100 broadcasts)`);
