// Issue 26 item 3: the dashboard in a real browser. Headless Chromium, driven over the DevTools protocol, opens /ui
// while ffmpeg plays a stream through the proxy from a local origin: no console error, the stream shows with its
// viewer, its bit-rate graph moves, a broadcast (fake FFmpeg) shows in the Broadcasts section, the layout fits a
// phone, and kick, stop broadcast and delete (confirmed) act on the proxy.
// A second test opens it through m3u-editor's prefix-stripping nginx (a plain HTTP reader playing) and fails over.
// M3U_DASHBOARD_PNG=path also writes the screenshot there (how docs/dashboard.png was made).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Config } from '../../src/config.ts';
import { alive, editorPayload } from '../helpers/broadcast.ts';
import { launchChromium, type CdpParams, type CdpSession } from '../helpers/cdp.ts';
import { requireChromium } from '../helpers/chromium.ts';
import { fakeFfmpeg } from '../helpers/fake-ffmpeg.ts';
import { requireNginx, startEditorNginx } from '../helpers/nginx.ts';
import { requireFfmpeg, runOk, runTool } from '../helpers/ffmpeg.ts';
import { startOrigin, waitFor, type Behaviour } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy, type RunningProxy } from '../helpers/start-proxy.ts';

const TOKEN = 'dashboard-e2e-token';
const auth = { 'x-api-token': TOKEN };

/** Evaluates `expression` every 100 ms until it is truthy; bounded. */
async function until(page: CdpSession, expression: string, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(`Boolean(${expression})`))) {
    assert.ok(performance.now() < deadline, `timed out waiting in the page for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Clicks a button that opens confirm(): the click runs after evaluate returns, since confirm blocks the page's script. */
async function clickAndAnswer(page: CdpSession, selector: string, accept: boolean): Promise<string> {
  const dialog = page.waitForEvent('Page.javascriptDialogOpening');
  await page.evaluate(`void setTimeout(() => document.querySelector(${JSON.stringify(selector)}).click(), 0)`);
  const opened = await dialog;
  assert.equal(opened['type'], 'confirm');
  await page.send('Page.handleJavaScriptDialog', { accept });
  return String(opened['message']);
}

function describeConsole(kind: string, p: CdpParams): string {
  return `${kind}: ${JSON.stringify(p).slice(0, 500)}`;
}

interface Scene {
  proxy: RunningProxy;
  id: string;
  /** Resolves when the player's connection ended. */
  playerDone: Promise<unknown>;
  page: CdpSession;
  /** Console errors, log errors and exceptions the page produced so far. */
  problems: string[];
  /** `document.querySelector` of `sel` inside the stream's card, as an expression. */
  q(sel: string): string;
  card: string;
}

/** 60 s of MPEG-TS from ffmpeg's test source (about 3 MB). */
async function encodedClip(t: TestContext): Promise<Buffer> {
  // Not children.ts's tempDir: its hook kills every child of the test at once, before Chromium's gentler stop hook.
  // Nothing writes here once the encode has finished.
  const dir = mkdtempSync(join(tmpdir(), 'm3u-e2e-dashboard-clip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'clip.ts');
  await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=60:size=320x240:rate=25', '-c:v', 'mpeg2video', '-b:v', '600k', '-f', 'mpegts', file]);
  return readFileSync(file);
}

/**
 * A stream with one player through the proxy, and Chromium showing `pageUrl(proxy)`, with the feed open. The player
 * is a plain HTTP reader of a live origin, or ffmpeg playing a real MPEG-TS clip that the origin sends as a live
 * stream would: no length, no ranges, 16 KiB every 100 ms (a whole file at once would sit in socket buffers).
 */
async function scene(t: TestContext, binary: string, player: 'reader' | 'ffmpeg', pageUrl: (proxy: RunningProxy) => Promise<string>, config: Partial<Config> = {}): Promise<Scene> {
  const media: Behaviour = player === 'ffmpeg' ? { kind: 'file', body: await encodedClip(t), contentType: 'video/mp2t', omitLength: true, ranges: false, chunkBytes: 16_384, trickleMs: 100 } : { kind: 'live', chunkBytes: 4096, intervalMs: 20 };
  const origin = await startOrigin(t, { '/live.ts': media, '/backup.ts': media });
  const proxy = await startProxy(t, { apiToken: TOKEN, ...config });
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')] }, auth);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const { stream_id: id, stream_endpoint: endpoint } = created.body as { stream_id: string; stream_endpoint: string };
  let playerDone: Promise<unknown>;
  if (player === 'ffmpeg') {
    // Not awaited: it plays while the test runs; runTool kills it in t.after.
    playerDone = runTool(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-user_agent', 'dashboard-e2e-ffmpeg', '-i', proxy.base + endpoint, '-c', 'copy', '-f', 'null', '-']);
    await waitFor(() => (proxy.app.registry.getStream(id)?.bytesServed ?? 0) > 0, 15_000, 'ffmpeg to start playing');
  } else {
    const reader = await openPlayer(t, proxy.base + endpoint, { 'user-agent': 'dashboard-e2e-player' });
    await reader.waitBytes(8192);
    playerDone = reader.done;
  }

  const browser = await launchChromium(t, binary);
  const page = await browser.openPage();
  const problems: string[] = [];
  page.on('Runtime.consoleAPICalled', (p) => {
    if (p['type'] === 'error' || p['type'] === 'assert') problems.push(describeConsole('console', p));
  });
  page.on('Runtime.exceptionThrown', (p) => problems.push(describeConsole('exception', p)));
  page.on('Log.entryAdded', (p) => {
    if ((p['entry'] as { level?: string } | undefined)?.level === 'error') problems.push(describeConsole('log', p));
  });
  await page.send('Page.enable');
  await page.send('Runtime.enable');
  await page.send('Log.enable');
  await page.send('Emulation.setDeviceMetricsOverride', { width: 1000, height: 640, deviceScaleFactor: 1, mobile: false });
  const loaded = page.waitForEvent('Page.loadEventFired');
  await page.send('Page.navigate', { url: await pageUrl(proxy) });
  await loaded;
  const card = `[data-stream-id=${JSON.stringify(id)}]`;
  const q = (sel: string): string => `document.querySelector(${JSON.stringify(`${card} ${sel}`)})`;
  await until(page, `document.getElementById('conn').textContent === 'live'`, 'the event stream to open');
  await until(page, `${q('[data-role="clients"]')}?.textContent === '1'`, 'the stream with its one viewer');
  return { proxy, id, playerDone, page, problems, q, card };
}

/** The graph moves: its points change from one snapshot to a later one, until it holds at least `points` of them. */
async function graphMoves(s: Scene, points: number): Promise<void> {
  const graph = `${s.q('polyline')}.getAttribute('points')`;
  const first = await s.page.evaluate<string>(graph);
  await until(s.page, `${graph} !== ${JSON.stringify(first)} && ${graph}.split(' ').length >= ${points}`, 'the bit-rate graph to move');
  assert.match(await s.page.evaluate<string>(`${s.q('[data-role="rate"]')}.textContent`), /^[\d.]+ (k|M)bit\/s$/);
  assert.match(await s.page.evaluate<string>(`document.getElementById('t-rate').textContent`), /^[\d.]+ (k|M)bit\/s$/);
}

/** A proxy setting for a fake FFmpeg broadcasting into a temporary directory (the player's ffmpeg stays the real one). */
function fakeBroadcasts(t: TestContext): Partial<Config> {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-e2e-dashboard-bc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { ffmpegPath: fakeFfmpeg(t, { segments: -1, delay: 0.5 }).path, broadcastDir: dir, broadcastStartGraceMs: 300 };
}

const NETWORK = 'news-24';

test('the dashboard in headless Chromium, ffmpeg playing: live stream, moving graph, broadcast, phone layout, kick, stop and delete', async (t) => {
  const binary = requireChromium(t);
  if (binary === undefined) return;
  if (!(await requireFfmpeg(t))) return;
  const shots = mkdtempSync(join(tmpdir(), 'm3u-e2e-dashboard-'));
  t.after(() => rmSync(shots, { recursive: true, force: true }));
  const s = await scene(t, binary, 'ffmpeg', async (proxy) => {
    // Running before the page opens, so the screenshot shows it too.
    const media = 'http://jellyfin.local:8096/Videos/4f2a/stream.ts?static=true&api_key=S3CR3T';
    const started = await api(proxy.base, 'POST', `/broadcast/${NETWORK}/start`, editorPayload(media, null), auth);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    return `${proxy.base}/ui?api_token=${TOKEN}`;
  }, fakeBroadcasts(t));
  const { page, q, card, id } = s;
  const base = s.proxy.base;
  assert.equal(await page.evaluate<string>(`${q('[data-role="upstream"]')}.textContent`), '1');
  assert.equal(await page.evaluate<string>(`${q('[data-role="failover"]')}.textContent`), 'URL 1 of 2 · 0 failovers');
  assert.match(await page.evaluate<string>(`${q('.clients li')}.textContent`), /dashboard-e2e-ffmpeg/);
  await graphMoves(s, 6);

  // The Broadcasts section: the network running, its FFmpeg pid, a segment number that grows, the URL masked.
  const bc = `[data-kind="broadcast"] [data-process-id="${NETWORK}"]`;
  const b = (sel: string): string => `document.querySelector(${JSON.stringify(`${bc} ${sel}`)})`;
  const pid = (s.proxy.app.broadcasts.status(NETWORK) as { ffmpeg_pid: number }).ffmpeg_pid;
  await until(page, `Number(${b('[data-role="segment"]')}?.textContent) >= 2`, 'the broadcast with its segments');
  assert.equal(await page.evaluate<string>(`${b('[data-role="status"]')}.textContent`), 'running');
  assert.equal(await page.evaluate<string>(`${b('[data-role="pid"]')}.textContent`), String(pid));
  assert.equal(await page.evaluate<string>(`${b('[data-role="url"]')}.textContent`), 'http://jellyfin.local:8096/…/stream.ts?static=***&api_key=***');
  assert.match(await page.evaluate<string>(`${b('[data-role="written"]')}.textContent`), /^[\d.]+ (B|KiB) · [\d.]+ (bit|kbit)\/s$/);
  assert.equal(await page.evaluate<boolean>(`${b('[data-role="error"]')}.hidden`), true);
  assert.equal(await page.evaluate<boolean>(`document.querySelector('[data-kind="broadcast"] [data-role="none"]').hidden`), true);
  assert.ok(!(await page.evaluate<string>('document.body.innerHTML')).includes('S3CR3T'), 'the provider key never reaches the page');

  // The window as tall as the page, so the screenshot holds the Broadcasts section below the streams.
  const height = await page.evaluate<number>('document.documentElement.scrollHeight');
  await page.send('Emulation.setDeviceMetricsOverride', { width: 1000, height: Math.max(640, height), deviceScaleFactor: 1, mobile: false });
  const shot = await page.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
  const png = Buffer.from(shot.data, 'base64');
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  writeFileSync(join(shots, 'dashboard.png'), png);
  const keep = process.env['M3U_DASHBOARD_PNG'];
  if (keep) writeFileSync(keep, png);

  // Phone width: nothing wider than the screen, the broadcast's long URL included.
  await page.send('Emulation.setDeviceMetricsOverride', { width: 360, height: 740, deviceScaleFactor: 2, mobile: true });
  await until(page, 'window.innerWidth === 360', 'the phone viewport');
  assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 360, 'no horizontal scrolling at 360 px');
  assert.ok((await page.evaluate<number>(`${b('[data-action="stop"]')}.getBoundingClientRect().right`)) <= 360, 'the stop button on screen');
  await page.send('Emulation.clearDeviceMetricsOverride');

  // Stop the broadcast: confirmed, FFmpeg ends, the API no longer has it, the page says none.
  const stopMessage = await clickAndAnswer(page, `${bc} [data-action="stop"]`, true);
  assert.equal(stopMessage, `Stop broadcast ${NETWORK}?`);
  await until(page, `document.getElementById('msg').textContent === 'Stop broadcast ${NETWORK}: Broadcast stopped'`, 'the stop answer');
  assert.equal((await api(base, 'GET', `/broadcast/${NETWORK}/status`, undefined, auth)).status, 404);
  assert.ok(!alive(pid), 'the broadcast FFmpeg is gone');
  await until(page, `document.querySelector(${JSON.stringify(bc)}) === null`, 'the broadcast card removed');
  assert.equal(await page.evaluate<boolean>(`document.querySelector('[data-kind="broadcast"] [data-role="none"]').hidden`), false);

  // Kick the viewer: confirmed, the proxy ends its connection.
  const kickMessage = await clickAndAnswer(page, `${card} [data-action="kick"]`, true);
  assert.match(kickMessage, /^Kick client .+ from /);
  await s.playerDone;
  await until(page, `${q('[data-role="clients"]')}?.textContent === '0'`, 'the viewer gone from the page');

  // Delete, dismissed: the stream stays. Then confirmed: it is gone from the API and then from the page.
  const deleteMessage = await clickAndAnswer(page, `${card} [data-action="delete"]`, false);
  assert.equal(deleteMessage, `Delete stream ${id}?`);
  assert.match(await page.evaluate<string>(`document.getElementById('msg').textContent`), /^Kick client .+: Client .+ disconnected$/, 'the kick answer, not a delete');
  assert.equal((await api(base, 'GET', `/streams/${id}`, undefined, auth)).status, 200, 'a dismissed delete deletes nothing');
  await clickAndAnswer(page, `${card} [data-action="delete"]`, true);
  await until(page, `document.getElementById('msg').textContent.includes('deleted')`, 'the delete answer');
  assert.equal((await api(base, 'GET', `/streams/${id}`, undefined, auth)).status, 404);
  await until(page, `document.querySelector(${JSON.stringify(card)}) === null`, 'the card removed');
  assert.equal(await page.evaluate<string>(`document.getElementById('t-streams').textContent`), '0');

  assert.deepEqual(s.problems, [], 'no console error, log error or exception in the page');
});

test('behind m3u-editor’s prefix-stripping nginx: the page, its live feed and a confirmed fail over work', async (t) => {
  const binary = requireChromium(t);
  if (binary === undefined) return;
  const nginxBinary = requireNginx(t);
  if (nginxBinary === undefined) return;
  const s = await scene(t, binary, 'reader', async (proxy) => `${(await startEditorNginx(t, nginxBinary, proxy.port)).base}/ui?api_token=${TOKEN}`);
  assert.match(await s.page.evaluate<string>('location.pathname'), /^\/m3u-proxy\/ui$/);
  assert.match(await s.page.evaluate<string>(`${s.q('.clients li')}.textContent`), /dashboard-e2e-player/);
  // nginx buffers proxied responses unless told not to: snapshots must still arrive one by one.
  await graphMoves(s, 3);
  const message = await clickAndAnswer(s.page, `${s.card} [data-action="failover"]`, true);
  assert.equal(message, `Fail over stream ${s.id}?`);
  await until(s.page, `${s.q('[data-role="failover"]')}.textContent.startsWith('URL 2 of 2 · 1 failover')`, 'the failover shown');
  const stat = await api(s.proxy.base, 'GET', `/streams/${s.id}`, undefined, auth);
  assert.equal((stat.body as { stream: { current_failover_index: number } }).stream.current_failover_index, 1);
  assert.match(await s.page.evaluate<string>(`document.getElementById('msg').textContent`), /^Fail over stream .+: Failover successful$/);
  assert.deepEqual(s.problems, [], 'no console error, log error or exception in the page');
});
