// One player attached to a fan-out (SPEC §5.5): its response as a FanoutSink, with the bookkeeping every shared
// source needs the same way (bytes counted, drain resumes the source, close/abort/DELETE leave once, the session
// ended). Used by the shared live upstream and by shared transcode processes.
import type { ServerResponse } from 'node:http';
import type { FanoutQueue, FanoutReader, FanoutSink } from '../../core/fanout-queue.ts';
import type { ClientRecord, Registry, StreamRecord } from '../../core/registry.ts';
import { sendNow } from '../../core/send-now.ts';
import { DISCONNECT_REASONS } from '../continuous/proxy-session.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';

export interface FanoutViewer extends FanoutSink {
  readonly client: ClientRecord;
  readonly res: ServerResponse;
  reader: FanoutReader<FanoutViewer> | null;
  leave(reason: DisconnectReason): void;
}

export interface FanoutJoin {
  queue: FanoutQueue<FanoutViewer>;
  /** The source's viewers by client session key; the viewer adds and removes itself. */
  viewers: Map<string, FanoutViewer>;
  res: ServerResponse;
  client: ClientRecord;
  /** The player has every byte appended so far: it reads on from the newest one, not from the join point. */
  caughtUp?: boolean;
  stream: StreamRecord;
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  /** Some viewer can take bytes again: the source may go on. */
  resume(): void;
  /** Manual failover reached this viewer's connection. */
  switchUrl(): void;
  /** After a viewer left (already out of `viewers`). */
  afterLeave(): void;
}

/** Attaches a player whose response already has its headers; resolves when the viewer has left. */
export function joinFanout(j: FanoutJoin): Promise<void> {
  const { queue, viewers, res, client, stream } = j;
  return new Promise<void>((resolve) => {
    let left = false;
    // A caught-up player's first bytes left already, uncorked (proxy-stream.ts).
    let sent = j.caughtUp === true;
    const viewer: FanoutViewer = {
      client,
      res,
      reader: null,
      // Hot path: count, then hand the chunk reference to the socket.
      write(chunk) {
        j.registry.addBytes(client, stream, chunk.length);
        const more = res.write(chunk);
        if (!sent) {
          sent = true;
          sendNow(res);
        }
        return more;
      },
      leave(reason) {
        if (left) return;
        left = true;
        viewers.delete(client.key);
        if (viewer.reader) queue.remove(viewer.reader);
        res.off('drain', onDrain);
        res.off('close', onClose);
        if (!res.writableEnded && !res.destroyed) res.destroy();
        unregister();
        j.streams.endClient(client, reason);
        resolve();
        j.afterLeave();
      },
    };
    const onDrain = (): void => {
      if (!viewer.reader) return;
      queue.drained(viewer.reader);
      if (queue.ready > 0) j.resume();
    };
    const onClose = (): void => viewer.leave('closed');
    const unregister = j.connections.add({
      client,
      shared: true,
      abort: (reason) => viewer.leave(DISCONNECT_REASONS.has(reason) ? (reason as DisconnectReason) : 'closed'),
      switchUrl: () => j.switchUrl(),
    });
    viewers.set(client.key, viewer);
    res.on('drain', onDrain);
    res.once('close', onClose);
    viewer.reader = queue.add(viewer, j.caughtUp === true);
    if (queue.ready > 0) j.resume();
  });
}
