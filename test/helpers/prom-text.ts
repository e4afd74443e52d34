// A strict parser for Prometheus text exposition 0.0.4, used by tests to prove every line of a scrape is well-formed.
import assert from 'node:assert/strict';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string | undefined;
  type: string | undefined;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${NAME})(\\{.*\\})? (\\S+)( -?\\d+)?$`);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  assert.match(text, VALUE, `bad value in: ${line}`);
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Parses `{a="x",b="y\"z"}`; fails on anything the format does not allow (unknown escapes, missing quotes). */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1;
  while (i < text.length - 1) {
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    assert.ok(nameMatch, `bad label name in: ${line}`);
    const name = nameMatch[0];
    i += name.length;
    assert.equal(text.slice(i, i + 2), '="', `expected =" after label ${name} in: ${line}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      assert.ok(c !== undefined, `unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        assert.ok(next === '\\' || next === '"' || next === 'n', `bad escape \\${next ?? ''} in: ${line}`);
        value += next === 'n' ? '\n' : next;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    assert.ok(!(name in labels), `duplicate label ${name} in: ${line}`);
    labels[name] = value;
    if (text[i] === ',') i++;
  }
  assert.equal(i, text.length - 1, `trailing garbage in labels of: ${line}`);
  return labels;
}

function familyOf(sampleName: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

/** Parses a whole scrape; asserts HELP and TYPE once per family, before its samples, and samples grouped by family. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  assert.ok(text === '' || text.endsWith('\n'), 'the exposition ends with a line feed');
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  let current: ParsedFamily | undefined;
  const lines = text.split('\n').slice(0, -1);
  for (const line of lines) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      assert.match(name, new RegExp(`^${NAME}$`), `bad metric name in: ${line}`);
      let f = families.get(name);
      if (!f) {
        f = { name, help: undefined, type: undefined, samples: [] };
        families.set(name, f);
      }
      assert.ok(f.samples.length === 0, `${kind} for ${name} after its samples`);
      if (kind === 'HELP') {
        assert.equal(f.help, undefined, `second HELP for ${name}`);
        assert.ok(!rest.replace(/\\[\\n]/g, '').includes('\\'), `bad escape in HELP of ${name}`);
        f.help = rest.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
      } else {
        assert.equal(f.type, undefined, `second TYPE for ${name}`);
        assert.ok(TYPES.has(rest), `unknown TYPE ${rest} for ${name}`);
        f.type = rest;
      }
      if (current && current !== f) finished.add(current.name);
      current = f;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    assert.ok(m, `malformed sample line: ${JSON.stringify(line)}`);
    const [, name = '', labelText, valueText = ''] = m;
    const family = familyOf(name, families);
    assert.ok(family, `sample ${name} has no HELP/TYPE before it`);
    assert.ok(!finished.has(family.name), `samples of ${family.name} are not grouped together`);
    if (current && current !== family) finished.add(current.name);
    current = family;
    family.samples.push({ name, labels: labelText ? parseLabels(labelText, line) : {}, value: parseValue(valueText, line) });
  }
  for (const f of families.values()) {
    assert.ok(f.help !== undefined, `family ${f.name} has no HELP`);
    assert.ok(f.type !== undefined, `family ${f.name} has no TYPE`);
  }
  return families;
}

/** A stable key for one series: sample name plus sorted labels. */
export function seriesKey(sample: ParsedSample): string {
  const labels = Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${sample.name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/** Histogram invariants: cumulative buckets never decrease, +Inf equals _count. */
export function assertHistogram(family: ParsedFamily): void {
  const bySeries = new Map<string, ParsedSample[]>();
  for (const s of family.samples) {
    if (!s.name.endsWith('_bucket')) continue;
    const { le, ...rest } = s.labels;
    assert.ok(le !== undefined, `bucket without le in ${family.name}`);
    const key = JSON.stringify(rest);
    bySeries.set(key, [...(bySeries.get(key) ?? []), s]);
  }
  for (const [key, buckets] of bySeries) {
    let prev = -Infinity;
    let prevCount = 0;
    for (const b of buckets) {
      const le = b.labels['le'] === '+Inf' ? Infinity : Number(b.labels['le']);
      assert.ok(le > prev, `le not ascending in ${family.name} ${key}`);
      assert.ok(b.value >= prevCount, `bucket counts decrease in ${family.name} ${key}`);
      prev = le;
      prevCount = b.value;
    }
    assert.equal(prev, Infinity, `no +Inf bucket in ${family.name} ${key}`);
    const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key);
    assert.equal(count?.value, prevCount, `_count differs from the +Inf bucket in ${family.name} ${key}`);
  }
}
