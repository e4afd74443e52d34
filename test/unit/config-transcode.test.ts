// Transcoding settings (SPEC §13): names as the reference's, defaults, and one clear line for a bad value.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseServerArgs } from '../../src/config.ts';
import { DEFAULT_TRANSCODE_CONFIG } from '../../src/config-transcode.ts';

function transcodeOf(env: Record<string, string>) {
  const c = parseServerArgs([], env);
  assert.equal(c.kind, 'run');
  return c.kind === 'run' ? c.config.transcode : undefined;
}

test('defaults, then every setting from the environment', () => {
  const d = transcodeOf({})!;
  assert.deepEqual({ ...d, hwAccel: undefined }, { ...DEFAULT_TRANSCODE_CONFIG, hwAccel: undefined });
  const t = transcodeOf({
    FFMPEG_PATH: '/opt/ff', STREAMLINK_PATH: '/opt/sl', YTDLP_PATH: '/opt/yt', STREAMLINK_ENABLED: 'false', YTDLP_ENABLED: '0',
    TRANSCODE_MAX_PROCESSES: '0', TRANSCODE_START_TIMEOUT: '2.5', SHARED_STREAM_GRACE: '1', HLS_TEMP_DIR: '/var/hls', HLS_WAIT_TIME: '4',
    COOKIES_DIR: '/etc/cookies', HW_ACCEL_AVAILABLE: 'true', HW_ACCEL_TYPE: 'nvidia',
  })!;
  assert.deepEqual(t, {
    ffmpegPath: '/opt/ff', streamlinkPath: '/opt/sl', ytdlpPath: '/opt/yt', streamlinkEnabled: false, ytdlpEnabled: false,
    maxProcesses: 0, startTimeoutMs: 2500, graceMs: 1000, hlsDir: '/var/hls', hlsWaitMs: 4000, cookiesDir: '/etc/cookies',
    hwAccel: { available: 'true', type: 'nvidia', device: undefined },
  });
});

test('bad values stop start-up with one line naming the setting', () => {
  for (const [name, value] of [['TRANSCODE_MAX_PROCESSES', '-1'], ['TRANSCODE_START_TIMEOUT', 'soon'], ['SHARED_STREAM_GRACE', '0'], ['STREAMLINK_ENABLED', 'maybe']] as const) {
    assert.throws(() => parseServerArgs([], { [name]: value }), (e: Error) => e.name === 'ConfigError' && e.message.includes(name), `${name}=${value}`);
  }
});
