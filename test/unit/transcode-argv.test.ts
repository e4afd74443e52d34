// Output detection, FFmpeg and resolver argv, stream ids, progress parsing, request validation (research §5, §7, §8).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildFfmpegArgv, checkTemplateArgs } from '../../src/services/transcode/ffmpeg-argv.ts';
import { detectOutput } from '../../src/services/transcode/output.ts';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { emptyProgress, takeProgressLine } from '../../src/services/transcode/progress.ts';
import { parseTranscodeRequest } from '../../src/services/transcode/request.ts';
import { buildResolverArgv, splitResolverArgs } from '../../src/services/transcode/resolver-argv.ts';
import { maskInput, transcodeStreamId } from '../../src/services/transcode/stream-id.ts';
import { parseNetscapeCookies } from '../../src/services/transcode/cookies.ts';
import { renderTemplate } from '../../src/services/transcode/template.ts';
import { parseStreamInput } from '../../src/http/validate.ts';

const URL = 'http://prov:8080/live/u/p/123.ts';
const VARS = { input_url: URL, output_args: 'pipe:1', format: 'mpegts' };
const is400 = (re: RegExp) => (e: Error & { status?: number }) => e.status === 400 && re.test(e.message);

test('output kind: TS to stdout, HLS by -f hls or -hls_*, mp4/mkv/webm not joinable; the input side never counts', () => {
  assert.deepEqual(detectOutput(['-i', 'x', '-f', 'mpegts', 'pipe:1']), { kind: 'ts', format: 'mpegts', contentType: 'video/mp2t' });
  assert.equal(detectOutput(['-i', 'x', '-hls_time', '2', 'out.m3u8']).kind, 'hls');
  assert.equal(detectOutput(['-i', 'x', '-f', 'hls', 'pipe:1']).kind, 'hls');
  assert.equal(detectOutput(['-f', 'hls', '-i', 'http://a/index.m3u8', '-f', 'mpegts', 'pipe:1']).kind, 'ts');
  for (const [f, type] of [['mp4', 'video/mp4'], ['matroska', 'video/x-matroska'], ['webm', 'video/webm']]) {
    assert.deepEqual(detectOutput(['-i', 'x', '-f', f!, 'pipe:1']), { kind: 'file', format: f, contentType: type });
  }
  assert.equal(detectOutput(['-i', 'x', '-f', 'adts', 'pipe:1']).kind, 'ts');
  assert.equal(detectOutput(['-i', 'x', 'pipe:1']).contentType, 'video/mp2t');
});

test('T3 Default Live argv: our prefix, -user_agent and the input whitelist before -i, -map, ends pipe:1', () => {
  const rendered = renderTemplate(EDITOR_DEFAULT_PROFILES.live, VARS);
  const { argv, output } = buildFfmpegArgv({ rendered, url: URL, userAgent: 'UA 1', headers: { Referer: 'http://r/' } });
  assert.equal(output.kind, 'ts');
  const s = argv.join(' ');
  assert.ok(s.startsWith('-nostdin -hide_banner -loglevel warning -nostats -progress pipe:2 -fflags +genpts+discardcorrupt+igndts -user_agent'));
  const i = argv.indexOf('-i');
  assert.equal(argv[i + 1], URL);
  assert.equal(argv[argv.indexOf('-user_agent') + 1], 'UA 1');
  assert.equal(argv[argv.indexOf('-headers') + 1], 'Referer: http://r/\r\n');
  assert.ok(argv.indexOf('-user_agent') < i && argv.indexOf('-protocol_whitelist') < i);
  assert.match(s, /-i \S+ -map 0:v:0\? -map 0:a:0\? -c:v libx264 .* -b:v 2000k -maxrate 2500k -bufsize 2500k -c:a aac -b:a 128k -f mpegts pipe:1$/);
  assert.ok(!s.includes('{'));
});

test('T4 Default HLS argv: output replaced by <dir>/index.m3u8, delete_segments merged', () => {
  const rendered = renderTemplate(EDITOR_DEFAULT_PROFILES.hls, VARS);
  const { argv, output } = buildFfmpegArgv({ rendered, url: URL, userAgent: 'UA', headers: {}, hlsDir: '/tmp/d' });
  assert.equal(output.kind, 'hls');
  assert.equal(argv.at(-1), '/tmp/d/index.m3u8');
  assert.equal(argv[argv.indexOf('-hls_flags') + 1], 'program_date_time+delete_segments+temp_file');
  assert.ok(!argv.includes('pipe:1'));
});

test('HLS: hls_list_size 0 (keep every segment) is bounded; -hls_segment_filename must be a plain name', () => {
  const keepAll = renderTemplate('-i {input_url} -hls_time 2 -hls_list_size 0 -f hls {output_args}', VARS);
  const { argv } = buildFfmpegArgv({ rendered: keepAll, url: URL, userAgent: 'u', headers: {}, hlsDir: '/d' });
  assert.equal(argv[argv.indexOf('-hls_list_size') + 1], '100');
  assert.equal(argv[argv.indexOf('-hls_flags') + 1], 'delete_segments+temp_file');
  const nested = renderTemplate('-i {input_url} -hls_segment_filename sub/seg_%03d.ts -f hls {output_args}', VARS);
  assert.throws(() => buildFfmpegArgv({ rendered: nested, url: URL, userAgent: 'u', headers: {}, hlsDir: '/d' }), is400(/plain file name/));
});

test('mp4 to a pipe is fragmented unless the template chose its -movflags', () => {
  const mp4 = buildFfmpegArgv({ rendered: renderTemplate('-i {input_url} -c copy -f mp4 {output_args}', VARS), url: URL, userAgent: 'u', headers: {} });
  assert.deepEqual(mp4.argv.slice(-5), ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov', 'pipe:1']);
  const own = buildFfmpegArgv({ rendered: renderTemplate('-i {input_url} -movflags +faststart -f mp4 {output_args}', VARS), url: URL, userAgent: 'u', headers: {} });
  assert.equal(own.argv.filter((a) => a === '-movflags').length, 1);
});

test('a template without an output gets -f mpegts pipe:1', () => {
  const rendered = renderTemplate('-i {input_url} -c copy', VARS);
  assert.deepEqual(buildFfmpegArgv({ rendered, url: URL, userAgent: 'u', headers: {} }).argv.slice(-4), ['-c', 'copy', '-f', 'mpegts', 'pipe:1'].slice(-4));
});

test('templates may not read or write local files', () => {
  const bad = [
    ['-i {input_url} -i /etc/passwd -f mpegts pipe:1', /second input/],
    ['-i {input_url} -i file:///etc/passwd -f mpegts pipe:1', /file:|second input/],
    ['-i {input_url} -f mpegts /tmp/out.ts', /absolute or parent/],
    ['-i {input_url} -f mpegts ../out.ts', /absolute or parent/],
    ['-i {input_url} -filter_complex_script x -f mpegts pipe:1', /_script/],
    ['-i {input_url} -vf movie=logo.png -f mpegts pipe:1', /movie/],
    ['-protocol_whitelist file,http -i {input_url} -f mpegts pipe:1', /protocol_whitelist/],
  ] as const;
  for (const [t, re] of bad) assert.throws(() => checkTemplateArgs(renderTemplate(t, VARS)), is400(re), t);
  checkTemplateArgs(renderTemplate('-i {input_url} -i http://cdn/logo.png -filter_complex overlay -f mpegts pipe:1', VARS));
  // Issue #817's VA-API templates name the render node after -i.
  checkTemplateArgs(renderTemplate('-i {input_url} -vaapi_device /dev/dri/renderD128 -vf format=nv12,hwupload -c:v h264_vaapi -f mpegts pipe:1', VARS));
  assert.throws(() => checkTemplateArgs(renderTemplate('-i {input_url} -f mpegts /dev/dri/../../etc/x', VARS)), is400(/absolute or parent/));
});

test('a path inside a filter or muxer argument is refused too; URLs, render nodes and plain values are not paths', () => {
  const inside = [
    '-i {input_url} -map 0 -c copy -f tee [f=mpegts]/tmp/out.ts -f mpegts pipe:1',
    '-i {input_url} -vf drawtext=textfile=/etc/hostname -f mpegts pipe:1',
    "-i {input_url} -vf subtitles='/etc/x.srt' -f mpegts pipe:1",
    '-i {input_url} -vf lut3d=file=/etc/x.cube -f mpegts pipe:1',
    '-i {input_url} -vf sendcmd=f=../cmds.txt -f mpegts pipe:1',
    '-init_hw_device vaapi=va:/etc/x -i {input_url} -f mpegts pipe:1',
  ];
  for (const t of inside) assert.throws(() => checkTemplateArgs(renderTemplate(t, VARS)), is400(/absolute or parent/), t);
  for (const t of [
    '-init_hw_device vaapi=va:/dev/dri/renderD128 -hwaccel vaapi -i {input_url} -vf scale_vaapi=w=1280:h=-2 -f mpegts pipe:1',
    '-i {input_url} -vf scale=1280:-2,fps=30 -metadata title=News/Sport -f mpegts pipe:1',
    '-i {input_url} -f flv rtmp://live.example/app/key',
    '-i {input_url} -c copy -hls_segment_filename seg_%03d.ts -f hls index.m3u8',
  ]) checkTemplateArgs(renderTemplate(t, VARS));
});

test('D1 stream id: two templates of one URL differ; the same one is stable; the URL never reaches the hash input', () => {
  const a = renderTemplate(EDITOR_DEFAULT_PROFILES.hls, VARS);
  const b = renderTemplate(EDITOR_DEFAULT_PROFILES.hlsFmp4, VARS);
  const idA = transcodeStreamId(URL, 'hls', maskInput(a.args, a.inputIndex));
  assert.match(idA, /^[0-9a-f]{32}$/);
  assert.notEqual(idA, transcodeStreamId(URL, 'hls', maskInput(b.args, b.inputIndex)));
  assert.equal(idA, transcodeStreamId(URL, 'hls', maskInput(a.args, a.inputIndex)));
  assert.ok(!maskInput(a.args, a.inputIndex).join(' ').includes(URL));
});

test('progress: -progress key=value lines and the classic status line', () => {
  const p = emptyProgress();
  for (const l of ['frame=250', 'fps=25.03', 'bitrate=2134.5kbits/s', 'speed=1.01x', 'progress=continue']) takeProgressLine(p, l);
  assert.deepEqual(p, { fps: 25.03, bitrate_kbps: 2134.5, speed: 1.01 });
  takeProgressLine(p, 'bitrate=N/A');
  assert.equal(p.bitrate_kbps, null);
  takeProgressLine(p, 'frame=  500 fps= 30 q=28.0 size=    1024kB time=00:00:20.00 bitrate= 419.4kbits/s speed=0.99x');
  assert.deepEqual(p, { fps: 30, bitrate_kbps: 419.4, speed: 0.99 });
  takeProgressLine(p, '[http @ 0x1] Server returned 403 Forbidden');
  assert.equal(p.fps, 30);
});

test('request: fields as the research lists them', () => {
  const r = parseTranscodeRequest({ url: URL, profile: ' -i {input_url} -f mpegts pipe:1 ', metadata: { profile_id: 5, is_failover: false }, headers: { Referer: 'x', Cookie: null } }, parseStreamInput);
  assert.equal(r.kind, 'ffmpeg');
  if (r.kind !== 'ffmpeg') return;
  assert.equal(r.profile, '-i {input_url} -f mpegts pipe:1');
  assert.deepEqual(r.stream.metadata, { profile_id: '5', is_failover: 'False' });
  assert.deepEqual(r.stream.headers, { Referer: 'x' });
  assert.equal(r.outputFormat, 'mpegts');
  const d = parseTranscodeRequest({ url: URL }, parseStreamInput);
  assert.equal(d.kind === 'ffmpeg' && d.profile, 'default');
  const s = parseTranscodeRequest({ url: URL, resolver: 'streamlink', resolver_args: '' }, parseStreamInput);
  assert.equal(s.kind === 'resolver' && s.resolverArgs, 'best');
  const y = parseTranscodeRequest({ url: URL, resolver: 'ytdlp', resolver_args: null }, parseStreamInput);
  assert.equal(y.kind === 'resolver' && y.resolverArgs, 'bestvideo+bestaudio/best');
  assert.throws(() => parseTranscodeRequest({ url: URL, resolver: 'vlc' }, parseStreamInput), (e: Error & { status?: number }) => e.status === 422);
  assert.throws(() => parseTranscodeRequest({ url: 'file:///etc/passwd' }, parseStreamInput), (e: Error & { status?: number }) => e.status === 422);
  assert.throws(() => parseTranscodeRequest({ url: URL, profile_variables: { input_url: '/etc/passwd' } }, parseStreamInput), is400(/input_url/));
  const v = parseTranscodeRequest({ url: URL, profile_variables: { crf: 20, fast: true } }, parseStreamInput);
  assert.deepEqual(v.kind === 'ffmpeg' && v.variables, { crf: '20', fast: 'True' });
});

test('T6/T7 resolver argv; refused options', () => {
  const cookies = parseNetscapeCookies('# Netscape HTTP Cookie File\n.twitch.tv\tTRUE\t/\tTRUE\t0\tauth\tabc\n#HttpOnly_.x.tv\tTRUE\t/\tFALSE\t0\tk\tv\n');
  assert.deepEqual(cookies, [{ name: 'auth', value: 'abc' }, { name: 'k', value: 'v' }]);
  const sl = buildResolverArgv({ resolver: 'streamlink', url: 'https://twitch.tv/x', args: splitResolverArgs('streamlink', 'best --hls-live-edge 3'), userAgent: 'UA', headers: {}, cookies, cookiesFile: undefined });
  assert.deepEqual(sl, ['https://twitch.tv/x', 'best', '--hls-live-edge', '3', '--http-header', 'User-Agent=UA', '--http-cookie', 'auth=abc', '--http-cookie', 'k=v', '-O']);
  const yt = buildResolverArgv({ resolver: 'ytdlp', url: 'https://yt/x', args: splitResolverArgs('ytdlp', 'bestvideo+bestaudio/best --no-playlist'), userAgent: 'UA', headers: {}, cookies: [], cookiesFile: '/tmp/c.txt' });
  assert.deepEqual(yt, ['-o', '-', '-f', 'bestvideo+bestaudio/best', '--no-playlist', '--user-agent', 'UA', '--cookies', '/tmp/c.txt', '--', 'https://yt/x']);
  assert.throws(() => splitResolverArgs('ytdlp', 'best --exec "rm -rf /"'), is400(/--exec/));
  assert.throws(() => splitResolverArgs('streamlink', 'best --config=/etc/x'), is400(/--config/));
});

test('D5 refused resolver options cannot pass attached to a short option or abbreviated', () => {
  for (const [r, a] of [
    ['streamlink', 'best -o/tmp/x.ts'],
    ['streamlink', 'best --rec=/tmp/y.ts'],
    ['streamlink', 'best --record-a'],
    ['ytdlp', '-a/etc/passwd'],
    ['ytdlp', '-qo/tmp/x'],
    ['ytdlp', '--exec-bef "touch x"'],
    ['ytdlp', '--cookies-from-browser firefox'],
    ['ytdlp', '--netrc'],
  ] as const) {
    assert.throws(() => splitResolverArgs(r, a), is400(/resolver_args may not use/), `${r} ${a}`);
  }
  // Real options that merely start like a refused one, and short options with their value apart, still pass.
  assert.deepEqual(splitResolverArgs('streamlink', 'best --http-cookie a=b --hls-live-edge 3'), ['best', '--http-cookie', 'a=b', '--hls-live-edge', '3']);
  assert.deepEqual(splitResolverArgs('ytdlp', 'best --print title -f 22 -4'), ['best', '--print', 'title', '-f', '22', '-4']);
});
