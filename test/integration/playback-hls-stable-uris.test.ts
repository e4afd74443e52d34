// Issue 15 item 2 / SPEC §5.3: a segment keeps its proxy URI across a failover. hls.js matches media sequence numbers
// to segment URIs (query ignored) across playlist reloads and stops with a fatal "media sequence mismatch" when a known
// number comes back with another URI; hls.js cannot be installed here, so `SequenceCheck` does what it checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHlsStream, get, playlistUris, proxyUrl } from '../helpers/hls.ts';
import { startOrigin, type Behaviour } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const playlist = (body: string): Behaviour => ({ kind: 'file', body: Buffer.from(body), contentType: MPEGURL });
const segment = (text: string): Behaviour => ({ kind: 'file', body: Buffer.from(text), contentType: 'video/mp2t' });

/** A live window of `names`, numbered from `sequence`. */
function live(names: string[], sequence: number): Behaviour {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${sequence}`];
  for (const n of names) lines.push('#EXTINF:2.0,', n);
  return playlist(lines.join('\n') + '\n');
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** hls.js's level merge, reduced to its check: a number seen before must come back with the same URI, query aside. */
class SequenceCheck {
  readonly seen = new Map<number, string>();

  /** Reads a reload; returns its segment URIs by number, or throws as hls.js's fatal levelParsingError would. */
  reload(text: string): Map<number, string> {
    const lines = text.split('\n');
    let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
    const now = new Map<number, string>();
    for (const line of lines) {
      if (line === '' || line.startsWith('#')) continue;
      const path = line.split('?')[0] ?? line;
      const before = this.seen.get(msn);
      if (before !== undefined && before !== path) throw new Error(`media sequence mismatch at ${msn}: ${before} then ${path}`);
      this.seen.set(msn, path);
      now.set(msn++, line);
    }
    return now;
  }
}

test('§5.3 live HLS: after the primary dies, every number the player knows keeps its URI, and old and new URIs play', async (t) => {
  // The two copies spell their segments differently, as two providers do.
  const primaryRoutes: Record<string, Behaviour> = { '/live.m3u8': live(range(10, 14).map((i) => `a${i}.ts?tok=p`), 10) };
  for (const i of range(10, 14)) primaryRoutes[`/a${i}.ts`] = segment(`primary ${i}`);
  const primary = await startOrigin(t, primaryRoutes);
  const backupRoutes: Record<string, Behaviour> = { '/hls/chan.m3u8': live(range(11, 15).map((i) => `seg/b-${i}.ts?auth=x`), 11) };
  for (const i of range(11, 15)) backupRoutes[`/hls/seg/b-${i}.ts`] = segment(`backup ${i}`);
  const backup = await startOrigin(t, backupRoutes);
  const proxy = await startProxy(t);
  const created = await createHlsStream(proxy, primary.url('/live.m3u8'), { failover_urls: [backup.url('/hls/chan.m3u8')] });
  const at = proxyUrl(proxy, `${created.playlist_url}?client_id=hlsjs-1`);
  const player = new SequenceCheck();

  const first = player.reload((await get(at)).text);
  assert.equal((await get(proxyUrl(proxy, first.get(10) ?? '', at))).text, 'primary 10');

  await primary.close(); // refused from now on: the next reload fails over to the backup
  const second = player.reload((await get(at)).text); // throws on a mismatch, as hls.js would
  const stat = ((await api(proxy.base, 'GET', `/streams/${created.stream_id}`)).body as { stream: { current_failover_index: number } }).stream;
  assert.equal(stat.current_failover_index, 1, 'the stream moved to the backup');
  for (const msn of range(11, 14)) assert.equal(second.get(msn), first.get(msn), `segment ${msn} kept its URI, query and all`);
  assert.ok(second.get(15) !== undefined && !first.has(15));

  // A kept URI names the primary's segment; it is served from the backup by its number. The new number plays too.
  assert.equal((await get(proxyUrl(proxy, second.get(12) ?? '', at))).text, 'backup 12');
  assert.equal((await get(proxyUrl(proxy, second.get(15) ?? '', at))).text, 'backup 15');
  // And it stays so on later reloads from the backup.
  player.reload((await get(at)).text);
});

test('§5.3 without a failover, a number that comes back with another upstream URL gets a new URI (an encoder restart)', async (t) => {
  const origin = await startOrigin(t, {
    '/live.m3u8': live(['x1.ts', 'x2.ts'], 1),
    '/x1.ts': segment('old 1'),
    '/y1.ts': segment('new 1'),
    '/backup.m3u8': live(['z1.ts'], 1),
  });
  const proxy = await startProxy(t);
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'), { failover_urls: [origin.url('/backup.m3u8')] });
  const at = proxyUrl(proxy, `${created.playlist_url}?client_id=c`);
  const before = playlistUris((await get(at)).text);
  origin.set('/live.m3u8', live(['y1.ts', 'y2.ts'], 1));
  const after = playlistUris((await get(at)).text);
  assert.notEqual(after[0], before[0], 'the same upstream renumbered: its segments are new ones');
  assert.equal((await get(proxyUrl(proxy, after[0] ?? '', at))).text, 'new 1');
});
