// Issue 15 / SPEC §5.3: a segment URL fails over by itself (a VOD player never reloads its playlist). When its
// upstream fails before the first byte, the same segment (same media sequence number, else the same position) comes
// from the same variant of the next URL; the stream moves once, and later segments go straight to the new URL.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { assertJsonError, createHlsStream, get, playlistUris, proxyUrl } from '../helpers/hls.ts';
import { startOrigin, type Behaviour, type Origin } from '../helpers/origin.ts';
import { api, startProxy, type RunningProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const playlist = (body: string): Behaviour => ({ kind: 'file', body: Buffer.from(body), contentType: MPEGURL });
const segment = (text: string): Behaviour => ({ kind: 'file', body: Buffer.from(text), contentType: 'video/mp2t' });

/** A media playlist of `names`, numbered from `sequence`; `ended` makes it VOD (RFC 8216 §4.3.3.4). */
function media(names: string[], sequence: number, ended: boolean): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:4', `#EXT-X-MEDIA-SEQUENCE:${sequence}`];
  for (const n of names) lines.push('#EXTINF:4.0,', n);
  if (ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** A copy of a channel on its own origin: `prefix`0.ts... answering '`label` i'. */
async function copy(t: TestContext, label: string, prefix: string, count: number, sequence: number, ended: boolean): Promise<Origin> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}.ts`);
  const routes: Record<string, Behaviour> = { '/index.m3u8': playlist(media(names, sequence, ended)) };
  names.forEach((n, i) => (routes[`/${n}`] = segment(`${label} ${i}`)));
  return startOrigin(t, routes);
}

interface StreamStat {
  current_url: string;
  failover_count: number;
}

async function streamStat(proxy: RunningProxy, id: string): Promise<StreamStat> {
  return ((await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: StreamStat }).stream;
}

/** Creates the stream, fetches its playlist once (as a VOD player does) and returns its segment URLs. */
async function tuneIn(proxy: RunningProxy, url: string, failover: string[]): Promise<{ id: string; segments: string[]; failovers: () => number }> {
  const created = await createHlsStream(proxy, url, { failover_urls: failover });
  let failovers = 0;
  proxy.app.bus.subscribe((e) => {
    if (e.event_type === 'failover_triggered' && e.stream_id === created.stream_id) failovers++;
  });
  const at = proxyUrl(proxy, created.playlist_url);
  const r = await get(at);
  assert.equal(r.status, 200, r.text);
  return { id: created.stream_id, segments: playlistUris(r.text).map((u) => proxyUrl(proxy, u, at)), failovers: () => failovers };
}

test('§5.3 VOD: the primary dies mid-play, and every later segment comes from the backup, with one failover', async (t) => {
  const primary = await copy(t, 'primary', 'a', 4, 0, true);
  const backup = await copy(t, 'backup', 'b', 4, 0, true);
  const proxy = await startProxy(t);
  const { id, segments, failovers } = await tuneIn(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  assert.equal(segments.length, 4);
  assert.equal((await get(segments[0] ?? '')).text, 'primary 0');

  await primary.close(); // connection refused from now on
  for (let i = 1; i < 4; i++) {
    const r = await get(segments[i] ?? '');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, `backup ${i}`, 'the same segment, from the backup');
  }
  const stat = await streamStat(proxy, id);
  assert.equal(stat.current_url, backup.url('/index.m3u8'));
  assert.equal(stat.failover_count, 1);
  assert.equal(failovers(), 1, 'one failover_triggered for the switch');
  assert.equal(backup.hits('/index.m3u8').length, 1, 'the backup playlist is read once for all the segments');
});

test('§5.3 live: the counterpart is the segment with the same media sequence number, not the same position', async (t) => {
  const primary = await copy(t, 'primary', 'a', 3, 10, false);
  // The backup's window starts two segments earlier: a11 is its b3 (msn 11), not its b1 (position 1).
  const backup = await copy(t, 'backup', 'b', 5, 8, false);
  const proxy = await startProxy(t);
  const { segments } = await tuneIn(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  primary.set('/a1.ts', { kind: 'status', status: 503 });
  assert.equal((await get(segments[1] ?? '')).text, 'backup 3');
});

test('§5.3 a copy numbered differently: the counterpart is the segment at the same position', async (t) => {
  const primary = await copy(t, 'primary', 'a', 3, 0, true);
  const backup = await copy(t, 'backup', 'b', 3, 500, true);
  const proxy = await startProxy(t);
  const { segments } = await tuneIn(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  primary.set('/a2.ts', { kind: 'status', status: 500 });
  assert.equal((await get(segments[2] ?? '')).text, 'backup 2');
});

test('§5.3 a master: a segment of the second variant fails over to the second variant of the backup master', async (t) => {
  const master = (a: string, b: string): string => `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n${a}\n#EXT-X-STREAM-INF:BANDWIDTH=3000000\n${b}\n`;
  const origin = await startOrigin(t, {
    '/a/master.m3u8': playlist(master('low.m3u8', 'high.m3u8')),
    '/a/low.m3u8': playlist(media(['low0.ts'], 7, true)),
    '/a/high.m3u8': playlist(media(['high0.ts'], 7, true)),
    '/a/high0.ts': { kind: 'status', status: 502 },
    '/b/master.m3u8': playlist(master('v1/index.m3u8', 'v2/index.m3u8')),
    '/b/v1/index.m3u8': playlist(media(['s.ts'], 7, true)),
    '/b/v2/index.m3u8': playlist(media(['s.ts'], 7, true)),
    '/b/v1/s.ts': segment('backup low'),
    '/b/v2/s.ts': segment('backup high'),
  });
  const proxy = await startProxy(t);
  const { id, segments: variants } = await tuneIn(proxy, origin.url('/a/master.m3u8'), [origin.url('/b/master.m3u8')]);
  const high = await get(variants[1] ?? '');
  const [seg] = playlistUris(high.text);
  const r = await get(proxyUrl(proxy, seg ?? '', variants[1]));
  assert.equal(r.text, 'backup high');
  assert.equal((await streamStat(proxy, id)).failover_count, 1);
});

test('§5.2 a segment the primary does not have (404) is a 502 JSON, not a failover', async (t) => {
  const primary = await copy(t, 'primary', 'a', 2, 0, true);
  const backup = await copy(t, 'backup', 'b', 2, 0, true);
  const proxy = await startProxy(t);
  const { id, segments, failovers } = await tuneIn(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  primary.set('/a1.ts', { kind: 'status', status: 404 });
  assertJsonError(await get(segments[1] ?? ''), 502, 'UPSTREAM_STATUS');
  assert.equal((await streamStat(proxy, id)).failover_count, 0);
  assert.equal(failovers(), 0);
  assert.equal(backup.requests.length, 0, 'the backup was not asked');
});

test('§5.2 §9 when the segment fails on every URL the player gets the primary failure, and the stream stays', async (t) => {
  const primary = await copy(t, 'primary', 'a', 2, 0, true);
  const backup = await copy(t, 'backup', 'b', 2, 0, true);
  const proxy = await startProxy(t);
  const { id, segments } = await tuneIn(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  primary.set('/a1.ts', { kind: 'status', status: 500 });
  backup.set('/b1.ts', { kind: 'status', status: 500 });
  assertJsonError(await get(segments[1] ?? ''), 502, 'UPSTREAM_STATUS');
  const stat = await streamStat(proxy, id);
  assert.equal(stat.failover_count, 0);
  assert.equal(stat.current_url, primary.url('/index.m3u8'));
  assert.equal(proxy.app.connections.count(), 0, 'no connection left behind');
});
