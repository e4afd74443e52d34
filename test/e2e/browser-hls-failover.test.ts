// Issue 15.3 in a browser: headless Chromium's own HLS player (a <video> element given the proxy's playlist URL;
// Chromium plays HLS natively since version 141) plays a live channel through the proxy, the primary provider goes
// away mid-play, and the page plays on from the backup: no media error, and currentTime keeps advancing. hls.js is
// not used: it is not packaged in Debian and this project installs no dependencies; the hls.js-specific check (the
// same media sequence keeps its URI across reloads) is test/integration/playback-hls-stable-uris.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpDom, requireChromium, startPageServer } from '../helpers/chromium.ts';
import { requireFfmpeg } from '../helpers/ffmpeg.ts';
import { startLiveFailover } from '../helpers/live-failover.ts';
import { waitFor } from '../helpers/origin.ts';
import { api } from '../helpers/start-proxy.ts';

/** The test cuts the primary once the video has played this many seconds... */
const OUTAGE_AT = 2;
/** ...and the page watches on for this long after that, however late playback began. */
const WATCH_AFTER_SECONDS = 11;

interface Sample {
  /** Seconds since the page started the video. */
  at: number;
  currentTime: number;
  readyState: number;
}

interface Report {
  samples: Sample[];
  /** The media element's error (code and message), or null when it never had one. */
  error: string | null;
  /** The media events that say playback stopped for want of data. */
  waiting: number;
}

/** The player page: plays `src` muted, samples it every half second, and sends each sample and the final report. */
function playerPage(src: string): string {
  return `<!doctype html><html><body><video id="v" muted autoplay playsinline></video><script>
const v = document.getElementById('v');
const report = { samples: [], error: null, waiting: 0 };
v.addEventListener('error', () => { report.error = v.error ? v.error.code + ' ' + v.error.message : 'error'; });
v.addEventListener('waiting', () => { report.waiting++; });
v.src = ${JSON.stringify(src)};
v.play().catch((e) => { report.error = 'play() ' + e.name + ' ' + e.message; });
const started = performance.now();
let outageAt;
const timer = setInterval(() => {
  const sample = { at: (performance.now() - started) / 1000, currentTime: v.currentTime, readyState: v.readyState };
  report.samples.push(sample);
  fetch('/progress', { method: 'POST', body: JSON.stringify(sample) });
  if (outageAt === undefined && sample.currentTime >= ${OUTAGE_AT}) outageAt = sample.at;
  if (outageAt !== undefined && sample.at >= outageAt + ${WATCH_AFTER_SECONDS}) {
    clearInterval(timer);
    fetch('/report', { method: 'POST', body: JSON.stringify(report) });
  }
}, 500);
</script><img src="/wait" alt=""></body></html>`;
}

test('§5.3 issue 15: Chromium\'s HLS player plays on through a live outage of the primary provider', async (t) => {
  const binary = requireChromium(t);
  if (binary === undefined || !(await requireFfmpeg(t))) return;
  const { media, primary, backup, proxy, id, playlistUrl } = await startLiveFailover(t, 40);

  // The page comes from another local port, as a web player's page would.
  const page = await startPageServer(t, () => playerPage(proxy.base + playlistUrl));
  const browsing = dumpDom(t, binary, `http://127.0.0.1:${page.port}/`, ['--autoplay-policy=no-user-gesture-required']);
  const playing = (): Sample | undefined => {
    const text = page.progress();
    return text === undefined ? undefined : (JSON.parse(text) as Sample);
  };
  // Two seconds of video from the primary, then the outage.
  await waitFor(() => (playing()?.currentTime ?? 0) >= OUTAGE_AT, 30_000, 'Chromium plays two seconds from the primary');
  const atOutage = playing()?.currentTime ?? 0;
  const primaryPlaylists = primary.hits('/a/live.m3u8').length;
  await primary.close();

  await browsing;
  const text = page.reported();
  assert.ok(text !== undefined, 'the page reported');
  const report = JSON.parse(text) as Report;
  assert.equal(report.error, null, 'the video element never had an error');
  const last = report.samples.at(-1);
  assert.ok(last !== undefined && last.readyState >= 2, `the video still has data to play (${JSON.stringify(last)})`);
  // The outage came with about 11 s of watching left: most of it must have been played, from the backup's segments.
  assert.ok(last.currentTime - atOutage >= 6, `played ${(last.currentTime - atOutage).toFixed(1)} s after the outage: ${JSON.stringify(report.samples)}`);
  const fromBackup = media.segments.filter((s) => backup.hits(`/b/${s.name}`).length > 0).length;
  assert.ok(fromBackup >= 4, `the backup served the segments played after the outage (${fromBackup})`);
  assert.ok(primaryPlaylists >= 1 && backup.hits('/b/live.m3u8').length >= 2, 'the player kept reloading the playlist, now from the backup');
  const stat = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: { current_url: string; failover_count: number } };
  assert.equal(stat.stream.current_url, backup.url('/b/live.m3u8'));
  assert.equal(stat.stream.failover_count, 1);
});
