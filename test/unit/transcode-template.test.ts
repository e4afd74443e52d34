// Template splitting and rendering (research §5.1, D3/D4; §8 T10, T11, E1).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { renderTemplate, splitTemplate } from '../../src/services/transcode/template.ts';
import { EDITOR_DEFAULT_PROFILES, BUILTIN_PROFILES } from '../../src/services/transcode/profiles.ts';

const VARS = { input_url: 'http://prov/live/u/p/1.ts', output_args: 'pipe:1', format: 'mpegts' };

test('T11 quotes are removed, their content stays one argument', () => {
  const r = renderTemplate('-i {input_url} -vf "scale=1280:720" -metadata \'title=a b\' -f mpegts {output_args}', VARS);
  assert.deepEqual(r.args, ['-i', VARS.input_url, '-vf', 'scale=1280:720', '-metadata', 'title=a b', '-f', 'mpegts', 'pipe:1']);
  assert.equal(r.inputIndex, 1);
});

test('tabs and newlines separate words; backslash escapes; \\" inside double quotes', () => {
  const words = splitTemplate('-i\t{input_url}\n-x "a \\"b\\" c" d\\ e');
  assert.equal(words.length, 5);
  const r = renderTemplate('-i\t{input_url}\n-x "a \\"b\\" c" d\\ e', VARS);
  assert.deepEqual(r.args.slice(2), ['-x', 'a "b" c', 'd e']);
});

test('defaults fill unknown variables; empty unquoted words are dropped, quoted ones kept', () => {
  const r = renderTemplate('-i {input_url} -b:v {bitrate|2000k} -x "" {output_args|} {nothing|}', { input_url: 'http://a/b', output_args: '' });
  assert.deepEqual(r.args, ['-i', 'http://a/b', '-b:v', '2000k', '-x', '']);
});

test('a value with spaces stays one argument (substituted after splitting)', () => {
  const r = renderTemplate('-i {input_url} -metadata {title|x}', { ...VARS, title: 'a b c' });
  assert.deepEqual(r.args.slice(2), ['-metadata', 'a b c']);
});

test('T10 no -i {input_url}: 400 naming it', () => {
  assert.throws(() => renderTemplate('-c:v libx264 -f mpegts pipe:1', VARS), (e: Error & { status?: number }) => e.status === 400 && /-i \{input_url\}/.test(e.message));
  assert.throws(() => renderTemplate('-i http://x/y -f mpegts pipe:1', VARS), /-i \{input_url\}/);
});

test('E1 unbalanced quotes and braces, unknown placeholder without default: 400 naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['-i {input_url} -vf "scale=1', /unbalanced double quote/],
    ["-i {input_url} -vf 'scale=1", /unbalanced single quote/],
    ['-i {input_url} -b:v {bitrate', /unbalanced '\{'/],
    ['-i {input_url} -b:v bitrate}', /unbalanced '\}'/],
    ['-i {input_url} -b:v {foo} -x {bar}', /\{foo\}, \{bar\}/],
    ['-i {input_url} -b:v {1bad}', /no valid variable name/],
    ['-i {input_url} \0', /NUL/],
  ];
  for (const [template, re] of cases) {
    assert.throws(() => renderTemplate(template, VARS), (e: Error & { status?: number }) => e.status === 400 && re.test(e.message), template);
  }
});

test("the editor's default templates render with no literal brace", () => {
  for (const t of [EDITOR_DEFAULT_PROFILES.live, EDITOR_DEFAULT_PROFILES.hls, EDITOR_DEFAULT_PROFILES.hlsFmp4]) {
    const r = renderTemplate(t, VARS);
    assert.ok(!r.args.some((a) => a.includes('{') || a.includes('}')));
    assert.equal(r.args[r.inputIndex], VARS.input_url);
  }
  const live = renderTemplate(EDITOR_DEFAULT_PROFILES.live, VARS).args.join(' ');
  assert.match(live, /-b:v 2000k -maxrate 2500k -bufsize 2500k -c:a aac -b:a 128k -f mpegts pipe:1$/);
});

test('every built-in profile renders', () => {
  for (const p of BUILTIN_PROFILES) assert.ok(renderTemplate(p.parameters, VARS).args.includes('-c:a'), p.name);
});
