// Broadcast API (SPEC §14, research §6.2): the editor's seven routes. Management routes need the token; the playlist
// and segments are open to players and are read from the network's directory by file name only.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../errors.ts';
import { servableName } from '../../services/broadcast/broadcast-dir.ts';
import type { BroadcastManager } from '../../services/broadcast/manager.ts';
import { checkNetworkId } from '../../services/broadcast/request.ts';
import { parseStartInput, type StartInputLimits } from '../../services/broadcast/start-input.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';

const PLAYLIST_HEADERS = {
  'content-type': 'application/vnd.apple.mpegurl',
  'cache-control': 'no-cache, no-store, must-revalidate',
  pragma: 'no-cache',
  expires: '0',
  'access-control-allow-origin': '*',
};

function typeOf(name: string): string {
  if (name.endsWith('.ts')) return 'video/MP2T';
  if (name.endsWith('.vtt')) return 'text/vtt';
  return 'application/vnd.apple.mpegurl';
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR';
}

export function broadcastRoutes(manager: BroadcastManager, limits: StartInputLimits): Route[] {
  return [
    {
      method: 'GET',
      path: '/broadcast',
      auth: true,
      handler: ({ res }) => sendJson(res, 200, manager.list()),
    },
    {
      method: 'POST',
      path: '/broadcast/:id/start',
      auth: true,
      async handler({ req, res, params }) {
        const id = checkNetworkId(params['id'] ?? '');
        const input = parseStartInput(await readJson(req), limits);
        sendJson(res, 200, await manager.start(id, input));
      },
    },
    {
      method: 'POST',
      path: '/broadcast/:id/stop',
      auth: true,
      async handler({ res, params }) {
        sendJson(res, 200, await manager.stop(checkNetworkId(params['id'] ?? '')));
      },
    },
    {
      method: 'GET',
      path: '/broadcast/:id/status',
      auth: true,
      handler({ res, params }) {
        const body = manager.status(checkNetworkId(params['id'] ?? ''));
        if (body === undefined) throw new NotFoundError('Broadcast');
        sendJson(res, 200, body);
      },
    },
    {
      method: 'DELETE',
      path: '/broadcast/:id',
      auth: true,
      async handler({ res, params }) {
        sendJson(res, 200, await manager.remove(checkNetworkId(params['id'] ?? '')));
      },
    },
    {
      method: 'GET',
      path: '/broadcast/:id/live.m3u8',
      auth: false,
      async handler({ req, res, params }) {
        const id = checkNetworkId(params['id'] ?? '');
        const dir = await manager.dirOf(id);
        let raw: string;
        try {
          // FFmpeg renames a complete playlist into place (temp_file): a read sees an old or a new one, never half.
          raw = await readFile(join(dir, 'live.m3u8'), 'utf8');
        } catch (error) {
          if (isMissing(error)) throw new NotFoundError('Playlist');
          throw error;
        }
        const text = Buffer.from(manager.servedPlaylist(id, raw));
        res.writeHead(200, { ...PLAYLIST_HEADERS, 'content-length': text.length });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
    },
    {
      method: 'GET',
      path: '/broadcast/:id/segment/:file',
      auth: false,
      async handler({ req, res, params }) {
        const dir = await manager.dirOf(checkNetworkId(params['id'] ?? ''));
        const name = params['file'] ?? '';
        if (!servableName(name)) throw new NotFoundError('Segment');
        const path = join(dir, name);
        let size: number;
        let mtime: Date;
        try {
          const info = await stat(path);
          if (!info.isFile()) throw new NotFoundError('Segment');
          size = info.size;
          mtime = info.mtime;
        } catch (error) {
          if (isMissing(error)) throw new NotFoundError('Segment');
          throw error;
        }
        res.writeHead(200, {
          'content-type': typeOf(name),
          'content-length': size,
          'last-modified': mtime.toUTCString(),
          'cache-control': name.endsWith('.m3u8') ? PLAYLIST_HEADERS['cache-control'] : 'max-age=86400',
          'access-control-allow-origin': '*',
        });
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        // A segment FFmpeg's delete_segments removes meanwhile is still readable through the open descriptor.
        await pipeline(createReadStream(path, { start: 0, end: Math.max(0, size - 1) }), res);
      },
    },
  ];
}
