// /info hardware acceleration: detected from what FFmpeg lists and the host really offers, or set by HW_ACCEL_*.
import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectHardware, parseHwaccels } from '../../src/services/transcode/hwaccel.ts';

test('parseHwaccels reads the methods after the header', () => {
  assert.deepEqual(parseHwaccels('Hardware acceleration methods:\nvdpau\ncuda\nvaapi\n\n'), ['vdpau', 'cuda', 'vaapi']);
});

test('VA-API only with a render node we may open and an FFmpeg that lists vaapi; NVIDIA only when nvidia-smi answers', async (t) => {
  const dri = mkdtempSync(join(tmpdir(), 'm3u-dri-'));
  t.after(() => rmSync(dri, { recursive: true, force: true }));
  const base = { driDir: dri, nvidiaSmi: '/nonexistent/nvidia-smi', forced: {} };
  const vaapi = async () => ['vaapi', 'cuda'];
  assert.deepEqual(await detectHardware({ ...base, ffmpegHwaccels: vaapi }), { enabled: false, type: null, device: null }, 'no render node');
  writeFileSync(join(dri, 'renderD128'), '');
  chmodSync(join(dri, 'renderD128'), 0o600);
  assert.deepEqual(await detectHardware({ ...base, ffmpegHwaccels: vaapi }), { enabled: true, type: 'vaapi', device: join(dri, 'renderD128') });
  assert.deepEqual(await detectHardware({ ...base, ffmpegHwaccels: async () => ['vdpau'] }), { enabled: false, type: null, device: null }, 'FFmpeg without vaapi');
  assert.equal((await detectHardware({ ...base, driDir: '/nonexistent', ffmpegHwaccels: vaapi })).enabled, false, 'cuda listed but no nvidia-smi');
  const smi = join(dri, 'nvidia-smi');
  writeFileSync(smi, '#!/bin/sh\necho "GPU 0: fake"\n');
  chmodSync(smi, 0o755);
  assert.deepEqual(await detectHardware({ ...base, driDir: '/nonexistent', nvidiaSmi: smi, ffmpegHwaccels: vaapi }), { enabled: true, type: 'nvidia', device: 'cuda' });
});

test('HW_ACCEL_AVAILABLE overrides the detection', async () => {
  const probe = { driDir: '/nonexistent', nvidiaSmi: '/nonexistent', ffmpegHwaccels: async () => [] };
  assert.deepEqual(await detectHardware({ ...probe, forced: { available: 'true', type: 'nvidia' } }), { enabled: true, type: 'nvidia', device: 'cuda' });
  assert.deepEqual(await detectHardware({ ...probe, forced: { available: 'true', device: '/dev/dri/renderD129' } }), { enabled: true, type: 'vaapi', device: '/dev/dri/renderD129' });
  assert.equal((await detectHardware({ ...probe, forced: { available: 'false' } })).enabled, false);
});
