// Prometheus text exposition 0.0.4 rendering (core/metrics-text.ts): escaping, values, histograms, HELP/TYPE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  histogramSamples,
  renderMetrics,
  type MetricFamily,
} from '../../src/core/metrics-text.ts';
import { assertHistogram, parseExposition } from '../helpers/prom-text.ts';

test('label values escape backslash, double quote and line feed only', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te');
  assert.equal(escapeLabelValue('plain'), 'plain');
});

test('HELP escapes backslash and line feed, not quotes', () => {
  assert.equal(escapeHelp('x\\y\n"z"'), 'x\\\\y\\n"z"');
});

test('values use the Go float spellings for the special cases', () => {
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(42), '42');
  assert.equal(formatValue(0.25), '0.25');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(NaN), 'NaN');
});

test('a family renders HELP, TYPE, then its samples with labels', () => {
  const text = renderMetrics([
    { name: 'm_total', help: 'A counter.', type: 'counter', samples: [{ value: 3 }] },
    { name: 'm_gauge', help: 'Per host.', type: 'gauge', samples: [{ labels: { host: 'a.example', kind: 'x"y' }, value: 1 }] },
  ]);
  assert.equal(
    text,
    '# HELP m_total A counter.\n# TYPE m_total counter\nm_total 3\n' +
      '# HELP m_gauge Per host.\n# TYPE m_gauge gauge\nm_gauge{host="a.example",kind="x\\"y"} 1\n',
  );
});

test('a hostile label value round-trips through a strict parser', () => {
  const value = 'back\\slash "quoted"\nnew line {brace}, comma=';
  const text = renderMetrics([{ name: 'm', help: 'h\\elp\nline', type: 'gauge', samples: [{ labels: { v: value }, value: 1 }] }]);
  const parsed = parseExposition(text);
  const family = parsed.get('m');
  assert.equal(family?.help, 'h\\elp\nline');
  assert.equal(family?.samples[0]?.labels['v'], value);
});

test('a family with no samples still has HELP and TYPE', () => {
  const text = renderMetrics([{ name: 'm_empty_total', help: 'Nothing yet.', type: 'counter', samples: [] }]);
  assert.equal(text, '# HELP m_empty_total Nothing yet.\n# TYPE m_empty_total counter\n');
  assert.equal(parseExposition(text).get('m_empty_total')?.type, 'counter');
});

test('histogram buckets are cumulative, end in +Inf and match _count', () => {
  const samples = histogramSamples([{ labels: { route: '/x' }, bounds: [0.1, 1], counts: [2, 0, 3], sum: 7.5 }]);
  const family: MetricFamily = { name: 'd_seconds', help: 'Durations.', type: 'histogram', samples };
  const text = renderMetrics([family]);
  assert.equal(
    text,
    '# HELP d_seconds Durations.\n# TYPE d_seconds histogram\n' +
      'd_seconds_bucket{route="/x",le="0.1"} 2\nd_seconds_bucket{route="/x",le="1"} 2\nd_seconds_bucket{route="/x",le="+Inf"} 5\n' +
      'd_seconds_sum{route="/x"} 7.5\nd_seconds_count{route="/x"} 5\n',
  );
  const parsed = parseExposition(text).get('d_seconds');
  assert.ok(parsed);
  assertHistogram(parsed);
});

test('histogram counts of the wrong length are a programming error', () => {
  assert.throws(() => histogramSamples([{ bounds: [1], counts: [1], sum: 1 }]), TypeError);
});

test('invalid or duplicate names are refused rather than rendered', () => {
  assert.throws(() => renderMetrics([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }]), TypeError);
  assert.throws(() => renderMetrics([{ name: 'm', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }]), TypeError);
  assert.throws(() => renderMetrics([{ name: 'm', help: '', type: 'gauge', samples: [{ labels: { __reserved: 'x' }, value: 1 }] }]), TypeError);
  const dup: MetricFamily = { name: 'm', help: '', type: 'gauge', samples: [] };
  assert.throws(() => renderMetrics([dup, dup]), TypeError);
});

test('the parser rejects malformed lines (guards the integration test)', () => {
  assert.throws(() => parseExposition('m 1\n'), /no HELP\/TYPE/);
  assert.throws(() => parseExposition('# HELP m x\n# TYPE m gauge\nm{a="\\t"} 1\n'), /bad escape/);
  assert.throws(() => parseExposition('# HELP m x\n# TYPE m gauge\nm one\n'), /bad value/);
  assert.throws(() => parseExposition('# HELP m x\nm 1\n'), /no TYPE/);
});
