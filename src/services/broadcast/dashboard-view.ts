// The broadcasts as the dashboard lists them (GET /ui/events): the manager's facts in the dashboard's process shape,
// the stream URL masked as in every broadcast answer (B9), and a stop button while FFmpeg runs.
import type { DashboardProcess, ProcessProvider } from '../dashboard-snapshot.ts';
import type { BroadcastManager } from './manager.ts';
import { maskQuery, type BroadcastFacts } from './views.ts';

export function broadcastProcesses(manager: BroadcastManager): ProcessProvider {
  return {
    kind: 'broadcast',
    title: 'Broadcasts',
    list(max) {
      const { total, facts } = manager.facts(max);
      return { total, items: facts.map(toProcess) };
    },
  };
}

function toProcess(f: BroadcastFacts): DashboardProcess {
  return {
    id: f.networkId,
    status: f.status,
    pid: f.pid,
    started_at: f.startedAt.toISOString(),
    stream_url: maskQuery(f.streamUrl),
    bytes_written: f.bytesWritten,
    current_segment_number: f.currentSegmentNumber,
    error_message: f.errorMessage,
    // A stopped or failed network stays listed for a while (B7); stopping it again would only drop it from the list.
    stop: f.status === 'running' ? { method: 'POST', path: `broadcast/${encodeURIComponent(f.networkId)}/stop` } : null,
  };
}
