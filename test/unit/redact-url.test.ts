// core/url.ts redactUrl: what of a provider's or a webhook receiver's URL may reach a log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from '../../src/core/url.ts';

test('an Xtream Codes URL keeps its host and channel file, never the user and password in its path', () => {
  assert.equal(redactUrl('http://provider.example:8080/live/alice/s3cretPass/12345.ts'), 'http://provider.example:8080/…/12345.ts');
  assert.equal(redactUrl('http://provider.example:8080/alice/s3cretPass/12345'), 'http://provider.example:8080/…/12345');
});

test('userinfo and the query go; a one-segment path and the root stay as they are', () => {
  assert.equal(redactUrl('http://user:pw@provider.example/get.php?username=a&password=b'), 'http://provider.example/get.php');
  assert.equal(redactUrl('https://cdn.example/index.m3u8?token=x'), 'https://cdn.example/index.m3u8');
  assert.equal(redactUrl('http://provider.example/'), 'http://provider.example/');
  assert.equal(redactUrl('not a url'), '<invalid url>');
});

test('keepLast=false (webhook receivers, whose secret is often the path): the host only', () => {
  assert.equal(redactUrl('https://hooks.example/services/T0/B0/XXXX', false), 'https://hooks.example/…');
  assert.equal(redactUrl('http://receiver.example/', false), 'http://receiver.example/');
});
