// Serving HLS-output transcodes (SPEC §13, defect D2): the playlist FFmpeg wrote, its URIs made `t/<name>`, and the
// files it names, read only by a plain name inside that stream's own directory: no request can name another file.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ClientInfo, Registry, StreamRecord } from '../../core/registry.ts';
import { isClientGone, NotFoundError, TranscodeFailedError, TranscodeFormatMismatchError } from '../../errors.ts';
import type { StreamService } from '../streams.ts';
import { hlsFileType, rewriteHlsOutput, SAFE_FILE } from './hls-dir.ts';
import type { HlsHub } from './hls-hub.ts';
import type { TranscodeSpec } from './spec.ts';
import { parseByteRange } from '../hls/segment-cache.ts';

export interface HlsRequest {
  res: ServerResponse;
  stream: StreamRecord;
  spec: TranscodeSpec;
  clientId: string;
  info: ClientInfo;
  /** The player's own parameters (client_id, username) to repeat on every URI of the playlist. */
  keepQuery?: URLSearchParams;
  /** Files: the player's Range header, and HEAD (headers only). */
  range?: string;
  head?: boolean;
}

export function createHlsOutput(deps: {
  registry: Registry;
  streams: StreamService;
  hubOf(stream: StreamRecord, spec: TranscodeSpec): HlsHub;
  existing(id: string): HlsHub | undefined;
}) {
  async function servePlaylist(p: HlsRequest): Promise<void> {
    const { res, stream, spec } = p;
    if (spec.output.kind !== 'hls') throw new TranscodeFormatMismatchError(stream.id);
    const hub = deps.hubOf(stream, spec);
    try {
      await hub.ensureRunning();
    } catch (err) {
      if (!hub.running()) hub.close();
      deps.streams.recordFailure(stream, (err as Error).message, p.clientId);
      throw err;
    }
    const client = deps.streams.touchHlsClient(stream, p.clientId, p.info);
    const query = p.keepQuery !== undefined && p.keepQuery.size > 0 ? `?${p.keepQuery}` : '';
    const text = await readFile(hub.playlistPath, 'utf8').catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Its process runs but its playlist is gone (its directory removed under it): a JSON 502, and the next
      // request starts the process again.
      hub.restart();
      throw new TranscodeFailedError('The transcoder\'s playlist is missing');
    });
    const body = Buffer.from(rewriteHlsOutput(text, query));
    deps.registry.addBytes(client, stream, body.length);
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-cache', 'content-length': String(body.length) });
    res.end(body);
  }

  async function serveFile(p: HlsRequest, name: string): Promise<void> {
    const { res, stream } = p;
    const hub = deps.existing(stream.id);
    if (!SAFE_FILE.test(name) || !hub || hub.closed) throw new NotFoundError(`File ${name}`);
    hub.touch();
    const path = join(hub.dir, name);
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new NotFoundError(`File ${name}`);
      size = info.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`File ${name}`); // deleted with the window
      throw err;
    }
    const client = deps.streams.touchHlsClient(stream, p.clientId, p.info);
    const headers: Record<string, string> = { 'content-type': hlsFileType(name), 'cache-control': 'max-age=60', 'accept-ranges': 'bytes' };
    let range: [number, number] = [0, size - 1];
    if (p.range !== undefined) {
      const wanted = parseByteRange(p.range, size);
      if (wanted === undefined) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      range = wanted;
      headers['content-range'] = `bytes ${range[0]}-${range[1]}/${size}`;
    }
    const length = size === 0 ? 0 : range[1] - range[0] + 1;
    res.writeHead(p.range !== undefined ? 206 : 200, { ...headers, 'content-length': String(length) });
    if (p.head || length === 0) {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(path, { start: range[0], end: range[1] }), res);
      deps.registry.addBytes(client, stream, length);
      deps.registry.addSegment(client, stream);
    } catch (err) {
      if (!isClientGone(err)) throw err; // the player left mid-segment: expected
    }
  }

  return { servePlaylist, serveFile };
}
