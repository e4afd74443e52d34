// Which player requests share a stream's live upstream, and the shared upstreams by stream (SPEC §5.5): the only
// place that creates or forgets one. Concurrent first viewers wait for the one upstream being opened instead of
// opening their own; an answer that turns out not to be live (a file with Content-Length) sends them their own way.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ClientRecord, StreamRecord } from '../../core/registry.ts';
import { isVodPath } from '../../core/url.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import { createSharingCounters, type SharingTotals } from './sharing-counters.ts';
import { createSharedUpstream, type SharedUpstream, type SharedUpstreamDeps, type SharedUpstreamInput } from './shared-upstream.ts';

export type LiveShareDeps = Omit<SharedUpstreamDeps, 'counters'>;

/** Per stream, for /stats/detailed and /metrics. */
export interface SharedStreamFigures {
  streamId: string;
  viewers: number;
  retainedBytes: number;
}

export type LiveShare = ReturnType<typeof createLiveShare>;

export function createLiveShare(deps: LiveShareDeps & { connections: ConnectionTracker }) {
  const counters = createSharingCounters();
  const running = new Map<string, SharedUpstream>();
  /** Streams whose first shareable upstream is being opened; resolves when that answer is known. */
  const opening = new Map<string, Promise<void>>();

  /**
   * A request that may share: sharing on for the stream, a GET without the `?url=` form, and no Range other than
   * `bytes=0-` (a real Range is a seek in a file). Whether the answer is live is known only once it arrives.
   */
  function mayShare(stream: StreamRecord, headers: IncomingHttpHeaders, head: boolean, override: boolean): boolean {
    if (!stream.shareUpstream || head || override) return false;
    const range = headers.range;
    if (range !== undefined && range.replace(/\s+/g, '').toLowerCase() !== 'bytes=0-') return false;
    if (headers['if-range'] !== undefined) return false;
    return stream.observedType !== 'VOD' && stream.observedType !== 'HLS' && !isVodPath(stream.url);
  }

  /**
   * Without waiting: the stream's running shared upstream, 'opening' while another viewer's answer is awaited, or
   * undefined when there is neither (the caller's turn to claim it). A cold channel's first viewer then sends its
   * upstream request in the same tick as its own request arrived (issue 24.8).
   */
  function findNow(streamId: string): SharedUpstream | 'opening' | undefined {
    const hub = running.get(streamId);
    if (hub && !hub.closed) return hub;
    return opening.has(streamId) ? 'opening' : undefined;
  }

  /**
   * After waiting for any viewer's open to settle: the stream's running shared upstream to join, or this caller's turn
   * to open it, claimed in the same step as the check that found neither (settle it once the answer is known). Checked
   * and claimed apart, every viewer woken by one failed or abandoned open saw "nothing running", claimed, and opened
   * its own provider connection.
   */
  async function findOrClaim(streamId: string): Promise<{ hub: SharedUpstream } | { claim: () => void }> {
    for (;;) {
      const hub = running.get(streamId);
      if (hub && !hub.closed) return { hub };
      const pending = opening.get(streamId);
      if (!pending) return { claim: claim(streamId) };
      await pending;
    }
  }

  /** Marks the stream as being opened; the returned function must be called once the answer is known (idempotent). */
  function claim(streamId: string): () => void {
    let settle!: () => void;
    const pending = new Promise<void>((resolve) => (settle = resolve));
    opening.set(streamId, pending);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (opening.get(streamId) === pending) opening.delete(streamId);
      settle();
    };
  }

  /** Creates the stream's shared upstream from the first viewer's accepted live answer. */
  function start(input: Omit<SharedUpstreamInput, 'deps' | 'onClosed'> & { onClosed?: () => void }): SharedUpstream {
    const id = input.stream.id;
    const hub: SharedUpstream = createSharedUpstream({
      ...input,
      deps: { ...deps, counters },
      onClosed: () => {
        if (running.get(id) === hub) running.delete(id);
        // SPEC §16: the channel lease goes with the upstream.
        input.onClosed?.();
      },
    });
    running.set(id, hub);
    counters.recordOpened();
    return hub;
  }

  return {
    mayShare,
    findNow,
    findOrClaim,
    claim,
    start,
    join: (hub: SharedUpstream, res: ServerResponse, client: ClientRecord, caughtUp = false) => hub.join(res, client, caughtUp),
    /** StreamStat upstream_connections: the shared upstream, plus players that hold their own (VOD, Range, opt-out). */
    upstreamCount(streamId: string): number {
      let n = running.has(streamId) ? 1 : 0;
      for (const c of deps.connections.ofStream(streamId)) if (!c.shared && c.client.kind === 'continuous') n++;
      return n;
    },
    viewers: (streamId: string): number => running.get(streamId)?.viewerCount() ?? 0,
    viewerOf(client: Pick<ClientRecord, 'key' | 'streamId'>): { skippedBytes: number; jumps: number } | undefined {
      return running.get(client.streamId)?.viewerOf(client.key);
    },
    figures(): SharedStreamFigures[] {
      return [...running].map(([streamId, hub]) => ({ streamId, viewers: hub.viewerCount(), retainedBytes: hub.retainedBytes() }));
    },
    totals: (): Readonly<SharingTotals> => counters.snapshot(),
    /** Shutdown: every shared upstream ends now. */
    closeAll(): void {
      for (const hub of [...running.values()]) hub.close('shutdown');
    },
  };
}
