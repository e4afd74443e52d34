// The transcode processes as the dashboard lists them (GET /ui/events), in its shared process shape: the input shown
// as its origin only (provider URLs carry credentials in their paths), a stop button that deletes the stream.
import { urlRing, type Registry } from '../../core/registry.ts';
import type { DashboardProcess, ProcessProvider } from '../dashboard-snapshot.ts';
import type { TranscodeEngine } from './engine.ts';

/** `http://host:port/…`: nothing of the path or query, where providers put their keys. */
export function originOnly(url: string): string {
  return URL.canParse(url) ? `${new URL(url).origin}/…` : '<input>';
}

export function transcodeProcesses(engine: TranscodeEngine, registry: Registry): ProcessProvider {
  return {
    kind: 'transcode',
    title: 'Transcodes',
    list(max) {
      const all = engine.processes();
      const items = all.slice(0, max).map(({ streamId, started, bytes }): DashboardProcess => {
        const stream = registry.getStream(streamId);
        return {
          id: streamId,
          status: started.child.running ? 'running' : 'stopping',
          pid: started.child.pid ?? 0,
          started_at: new Date(started.startedAt).toISOString(),
          stream_url: stream ? originOnly(urlRing(stream)[stream.currentIndex] ?? stream.url) : '<input>',
          bytes_written: bytes ?? 0,
          current_segment_number: null,
          error_message: null,
          stop: { method: 'DELETE', path: `streams/${encodeURIComponent(streamId)}` },
        };
      });
      return { total: all.length, items };
    },
  };
}
