// The browser-facing guards of SPEC §4 and the TRUST_PROXY peer check of §2, on stub requests.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { isLocalSideAddress } from '../../src/core/address.ts';
import { hasBody, requireJsonBody } from '../../src/http/body.ts';
import { clientIp, trustsPeer } from '../../src/http/client-identity.ts';
import { createHostCheck, hostName, isSafeHost } from '../../src/http/host-check.ts';
import { AppError } from '../../src/errors.ts';

function stubRequest(headers: Record<string, string>, remoteAddress = '127.0.0.1'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

test('Host header → host name without port or brackets', () => {
  assert.equal(hostName('Example.COM:8085'), 'example.com');
  assert.equal(hostName('[::1]:8085'), '::1');
  assert.equal(hostName('[fd00::5]'), 'fd00::5');
  assert.equal(hostName('m3u-proxy'), 'm3u-proxy');
  assert.equal(hostName(undefined), '');
});

test('without a token: IP literals, localhost, single labels and ALLOWED_HOSTS pass; other names do not', () => {
  const allowed = new Set(['tv.example.com']);
  for (const ok of ['127.0.0.1', '192.168.1.20', '::1', 'localhost', 'm3u-proxy', 'nas', 'tv.example.com', '']) assert.ok(isSafeHost(ok, allowed), ok);
  for (const bad of ['rebind.attacker.example', 'tv.example.com.', 'localhost.', 'a.localhost', '127.0.0.1.nip.io']) assert.ok(!isSafeHost(bad, allowed), bad);
  const check = createHostCheck([]);
  assert.doesNotThrow(() => check(stubRequest({ host: 'm3u-proxy:38085' })));
  assert.throws(
    () => check(stubRequest({ host: 'rebind.attacker.example:8085' })),
    (err: unknown) => err instanceof AppError && err.status === 403 && err.code === 'FORBIDDEN_HOST' && err.message.includes('ALLOWED_HOSTS'),
  );
});

test('a management body must be application/json (parameters allowed); no body, no check', () => {
  const json = (type: string | undefined, extra: Record<string, string> = { 'content-length': '2' }): IncomingMessage =>
    stubRequest(type === undefined ? extra : { ...extra, 'content-type': type });
  assert.doesNotThrow(() => requireJsonBody(json('application/json')));
  assert.doesNotThrow(() => requireJsonBody(json('Application/JSON; charset=utf-8')));
  assert.doesNotThrow(() => requireJsonBody(json('text/plain', { 'content-length': '0' })), 'an empty body needs no type');
  assert.doesNotThrow(() => requireJsonBody(json('text/plain', {})), 'no body at all');
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
    assert.throws(() => requireJsonBody(json(type)), (e: unknown) => e instanceof AppError && e.status === 415, String(type));
  }
  assert.throws(() => requireJsonBody(json('text/plain', { 'transfer-encoding': 'chunked' })), (e: unknown) => e instanceof AppError && e.status === 415);
  assert.equal(hasBody(stubRequest({ 'transfer-encoding': 'chunked' })), true);
});

test('TRUST_PROXY=private trusts loopback, private and unique-local peers only', () => {
  for (const peer of ['127.0.0.1', '::1', '::ffff:10.1.2.3', '172.16.0.9', '192.168.0.2', 'fd12::1']) assert.ok(isLocalSideAddress(peer), peer);
  for (const peer of ['8.8.8.8', '::ffff:1.1.1.1', '2001:db8::1', '169.254.1.1', 'fe80::1', '172.32.0.1', 'garbage']) assert.ok(!isLocalSideAddress(peer), peer);
  const forwarded = { 'x-forwarded-for': '203.0.113.7, 10.0.0.2' };
  assert.equal(clientIp(stubRequest(forwarded, '::ffff:172.18.0.3'), 'private'), '203.0.113.7', "the editor's nginx on a container network");
  assert.equal(clientIp(stubRequest(forwarded, '198.51.100.1'), 'private'), '198.51.100.1', 'a public peer cannot claim another address');
  assert.equal(clientIp(stubRequest(forwarded, '198.51.100.1'), true), '203.0.113.7');
  assert.equal(clientIp(stubRequest(forwarded, '127.0.0.1'), false), '127.0.0.1');
  assert.equal(trustsPeer(undefined, 'private'), false);
});

test('local-side addresses: range edges, malformed quads and IPv6 spellings', () => {
  for (const peer of ['127.255.255.255', '10.0.0.0', '172.31.255.255', '192.168.255.255', 'fc00::', 'FD00::1', '::ffff:127.0.0.1', 'fd00::1%eth0']) assert.ok(isLocalSideAddress(peer), peer);
  for (const peer of ['172.15.255.255', '11.0.0.1', '192.169.0.1', '126.0.0.1', '10.0.0', '10.0.0.1.2', '10.0.0.256', '010.0.0.1', '10..0.1', '', 'fe00::1', 'fc0::1', '::2', '::', '1.2.3.4 ']) assert.ok(!isLocalSideAddress(peer), peer);
});
