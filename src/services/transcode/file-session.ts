// A transcode watched by one viewer alone: a container that cannot be joined mid-stream (mp4, mkv, webm: defect D6')
// or a file input (a VOD, watched from its start). The process is started for the viewer, its stdout piped to it,
// stopped when the viewer leaves or the stream is removed; a clean exit (the file is done) ends the response.
import type { ServerResponse } from 'node:http';
import type { ClientRecord, StreamRecord } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import { DISCONNECT_REASONS } from '../continuous/proxy-session.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import type { Registry } from '../../core/registry.ts';
import type { StartedProcess } from './process-start.ts';

export interface FileSessionDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
}

/** Pipes the started process to the viewer (headers already sent); resolves when either side ended. */
export function runFileSession(deps: FileSessionDeps, stream: StreamRecord, res: ServerResponse, client: ClientRecord, started: StartedProcess): Promise<void> {
  const { child } = started;
  const out = child.stdout;
  return new Promise<void>((resolve) => {
    let ended = false;
    const end = (reason: DisconnectReason): void => {
      if (ended) return;
      ended = true;
      out?.off('data', onData);
      res.off('drain', onDrain);
      res.off('close', onClose);
      void child.stop();
      if (!res.writableEnded && !res.destroyed) {
        if (reason === 'closed' && child.exit?.code === 0) res.end();
        else res.destroy();
      }
      unregister();
      deps.streams.endClient(client, reason);
      resolve();
    };
    const write = (chunk: Buffer): void => {
      deps.registry.addBytes(client, stream, chunk.length);
      if (!res.write(chunk)) out?.pause();
    };
    const onData = (chunk: Buffer): void => write(chunk);
    const onDrain = (): void => void out?.resume();
    const onClose = (): void => end('closed');
    const unregister = deps.connections.add({
      client,
      // Holds no upstream socket itself: its process's provider connection is counted by the engine.
      shared: true,
      abort: (reason) => end(DISCONNECT_REASONS.has(reason) ? (reason as DisconnectReason) : 'closed'),
    });
    res.on('drain', onDrain);
    res.once('close', onClose);
    if (started.first) write(started.first);
    out?.on('data', onData);
    if (res.writableNeedDrain) out?.pause();
    else out?.resume();
    // The file ends when FFmpeg exits: a clean exit ends the response, anything else cuts it.
    void child.exited.then(() => end('closed'));
  });
}
