// core/upstream/client.ts requestOptions: the options built from a URL must be the ones Node's own URL form makes
// (node:url urlToHttpOptions), field by field, for every shape of provider URL.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { urlToHttpOptions } from 'node:url';
import { requestOptions } from '../../src/core/upstream/client.ts';

const URLS = [
  'http://provider.example/live/1.ts',
  'http://provider.example:8080/live/1.ts?token=abc&x=1',
  'https://cdn.example/path/with%20space/seg.ts',
  'http://user:p%40ss@127.0.0.1:8000/get.php?username=u&password=p',
  'http://only-user@host.example/a',
  'http://[::1]:9000/v6.ts',
  'https://[2001:db8::1]/v6',
  'http://host.example/?',
  'http://host.example',
];

test('requestOptions gives the protocol, host, port, path and auth that Node derives from the same URL', () => {
  const agent = new http.Agent();
  try {
    for (const raw of URLS) {
      const url = new URL(raw);
      const ours = requestOptions(url, 'GET', { accept: '*/*' }, agent);
      const node = urlToHttpOptions(url);
      for (const field of ['protocol', 'hostname', 'port', 'path', 'auth'] as const) {
        assert.equal(ours[field], node[field], `${raw}: ${field}`);
      }
      assert.equal(ours.method, 'GET');
      assert.equal(ours.agent, agent);
    }
  } finally {
    agent.destroy();
  }
});
