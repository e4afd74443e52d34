// SPEC §5.5 with real decoders: a viewer who joins a running shared live TS channel starts where a decoder can
// start (a PAT before a keyframe, on a packet boundary), so ffprobe and ffmpeg decode it without one error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireFfmpeg, runOk } from '../helpers/ffmpeg.ts';
import { startOrigin } from '../helpers/origin.ts';
import { makeChannel, paced } from '../helpers/live-channel.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

for (const codec of ['h264', 'mpeg2'] as const) {
  test(`§5.5 a late joiner of a running ${codec} channel decodes without errors from its first byte`, async (t) => {
    if (!(await requireFfmpeg(t))) return;
    const channel = await makeChannel(t, codec);
    const origin = await startOrigin(t, { '/channel.ts': paced(channel) });
    const proxy = await startProxy(t);
    const r = await api(proxy.base, 'POST', '/streams', { url: origin.url('/channel.ts') });
    assert.equal(r.status, 200);
    const url = proxy.base + (r.body as { stream_endpoint: string }).stream_endpoint;

    // The first viewer keeps the channel running; the others join it mid-GOP.
    const first = await openPlayer(t, url);
    await first.waitBytes(Math.floor(channel.length / 20) * 3 + 7777);
    const probe = await runOk(t, 'ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', url]);
    assert.equal(probe.stderr.trim(), '', `ffprobe reported:\n${probe.stderr}`);
    // ffprobe lists each stream once per program too: compare the set.
    assert.deepEqual([...new Set(probe.stdout.split('\n').map((l) => l.split(',')[0]!.trim()).filter((l) => l !== ''))].sort(), ['audio', 'video']);
    const play = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', url, '-t', '2', '-f', 'null', '-']);
    assert.equal(play.stderr.trim(), '', `ffmpeg reported:\n${play.stderr}`);
    assert.equal(origin.hits('/channel.ts').length, 1, 'the joiners shared the running upstream');
  });
}
