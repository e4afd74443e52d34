import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AppError, BadTokenError, ClusterUnavailableError, BodyTooLargeError, ConflictError, ForbiddenError, InvalidJsonError, MethodNotAllowedError,
  NotFoundError, ShuttingDownError, UnauthorizedError, UpstreamError, UpstreamStatusError, UpstreamTimeoutError,
  ValidationError, echoInput, isClientGone, toBody,
} from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { loggableUrl } from '../../src/http/server.ts';

test('§9 the catalogue maps each error to its status and stable code', () => {
  const table: Array<[AppError, number, string]> = [
    [new InvalidJsonError(), 400, 'INVALID_JSON'],
    [new ValidationError('x'), 422, 'VALIDATION_ERROR'],
    [new UnauthorizedError(), 401, 'UNAUTHORIZED'],
    [new ForbiddenError(), 403, 'FORBIDDEN'],
    [new BadTokenError(), 403, 'BAD_TOKEN'],
    [new NotFoundError('Stream x'), 404, 'NOT_FOUND'],
    [new MethodNotAllowedError(['GET']), 405, 'METHOD_NOT_ALLOWED'],
    [new ConflictError('x'), 409, 'CONFLICT'],
    [new BodyTooLargeError(10), 413, 'BODY_TOO_LARGE'],
    [new UpstreamError(), 502, 'UPSTREAM_FAILED'],
    [new UpstreamStatusError(404), 502, 'UPSTREAM_STATUS'],
    [new ShuttingDownError(), 503, 'SHUTTING_DOWN'],
    [new ClusterUnavailableError(), 503, 'CLUSTER_UNAVAILABLE'],
    [new UpstreamTimeoutError(), 504, 'UPSTREAM_TIMEOUT'],
  ];
  for (const [err, status, code] of table) {
    assert.equal(err.status, status, err.name);
    assert.equal(err.code, code, err.name);
    assert.deepEqual(toBody(err), { detail: err.message, code });
  }
  assert.equal(new NotFoundError('Stream x').message, 'Stream x not found');
});

test('isClientGone recognises aborts and resets, nothing else', () => {
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
  const premature = Object.assign(new Error('closed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  assert.ok(isClientGone(abort));
  assert.ok(isClientGone(reset));
  assert.ok(isClientGone(premature));
  assert.ok(!isClientGone(new Error('boom')));
  assert.ok(!isClientGone('ECONNRESET'));
});

test('the logger filters by level and writes text or JSON lines', () => {
  const lines: string[] = [];
  const now = () => new Date('2026-01-01T00:00:00.000Z');
  const text = createLogger({ level: 'info', format: 'text', write: (l) => lines.push(l), now });
  text.debug('hidden');
  text.info('client connected', { stream: 'abc', ua: 'VLC 3', n: 1, skip: undefined });
  assert.deepEqual(lines, ['2026-01-01T00:00:00.000Z INFO  client connected stream=abc ua="VLC 3" n=1\n']);
  lines.length = 0;
  const json = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l), now });
  json.debug('x', { a: 1 });
  assert.deepEqual(JSON.parse(lines[0] ?? ''), { time: '2026-01-01T00:00:00.000Z', level: 'debug', msg: 'x', a: 1 });
  assert.ok(json.isDebug());
  assert.ok(!text.isDebug());
});

test('§4 api_token is masked in logged URLs', () => {
  assert.equal(loggableUrl('/streams?api_token=s3cret&x=1'), '/streams?api_token=***&x=1');
  assert.equal(loggableUrl('/streams?x=1&API_TOKEN=s3cret'), '/streams?x=1&API_TOKEN=***');
  assert.equal(loggableUrl('/streams'), '/streams');
});

test('issue 14: percent-encoded names and ?url= values are masked too', () => {
  assert.equal(loggableUrl('/streams?api%5Ftoken=s3cret'), '/streams?api%5Ftoken=***');
  assert.equal(loggableUrl('/streams?%61pi_token=s3cret&b=2'), '/streams?%61pi_token=***&b=2');
  assert.equal(loggableUrl('/stream/x?url=http%3A%2F%2Fu%3Ap%40h%2Fa&client_id=c'), '/stream/x?url=***&client_id=c');
  assert.equal(loggableUrl('/hls/x/playlist.m3u8?%75rl=http://u:p@h/a.m3u8'), '/hls/x/playlist.m3u8?%75rl=***');
  assert.equal(loggableUrl('/webhooks?webhook_url=http://h/?k=1'), '/webhooks?webhook_url=***');
  assert.equal(loggableUrl('/x?api_token'), '/x?api_token=***');
  // Not a secret: kept as sent, malformed escapes included.
  assert.equal(loggableUrl('/x?username=al%ZZice&a=&&b'), '/x?username=al%ZZice&a=&&b');
});

test('issue 14: echoed client input is cut to a short prefix', () => {
  assert.equal(echoInput('short'), 'short');
  const long = 'x'.repeat(900_000);
  const cut = echoInput(long);
  assert.ok(cut.length < 100, cut);
  assert.match(cut, /^x{64}… \(900000 chars\)$/);
  assert.ok(new ValidationError(long).message.length <= 600);
  assert.ok(new NotFoundError(`Client ${long}`).message.length <= 600);
});
