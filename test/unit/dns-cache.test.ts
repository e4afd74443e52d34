// core/upstream/dns-cache.ts: a provider's host name is resolved once per TTL, cached answers come on the next tick,
// concurrent misses share one query, failures are never kept, and forget() makes the next connection ask again.
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { test } from 'node:test';
import { createDnsCache, type ResolveAll } from '../../src/core/upstream/dns-cache.ts';

/** A resolver whose answers the test releases by hand, counting the queries it was asked. */
function fakeResolver(answer: (host: string) => LookupAddress[] | Error) {
  const queries: Array<{ host: string; family: number; release: () => void }> = [];
  const resolveAll: ResolveAll = (host, options, callback) => {
    queries.push({
      host,
      family: options.family,
      release: () => {
        const a = answer(host);
        // As dns.lookup(host, { all: true }) fails: an error and no list.
        if (a instanceof Error) callback(Object.assign(a, { code: 'ENOTFOUND' }), undefined);
        else callback(null, a);
      },
    });
  };
  return { queries, resolveAll };
}

const ADDRS: LookupAddress[] = [
  { address: '192.0.2.10', family: 4 },
  { address: '2001:db8::10', family: 6 },
];

type Answer = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function ask(cache: ReturnType<typeof createDnsCache>, host: string, all: boolean, family = 0): { result: Promise<Answer> } {
  const result = new Promise<Answer>((resolve) => {
    const options = all ? { all: true as const, family } : { family };
    cache.lookup(host, options, (err, address, fam) => resolve({ err, address, family: fam }));
  });
  return { result };
}

test('the first lookup asks the resolver; the next ones within the TTL are answered from the cache on the next tick', async () => {
  let t = 1_000;
  const r = fakeResolver(() => ADDRS);
  const cache = createDnsCache({ ttlMs: 5_000, resolveAll: r.resolveAll, now: () => t });

  const first = ask(cache, 'provider.example', false);
  assert.equal(r.queries.length, 1);
  r.queries[0]?.release();
  assert.deepEqual(await first.result, { err: null, address: '192.0.2.10', family: 4 });

  let one: Answer | undefined;
  cache.lookup('provider.example', { family: 0 }, (err, address, family) => (one = { err, address, family }));
  let all: Answer | undefined;
  cache.lookup('provider.example', { all: true, family: 0 }, (err, address) => (all = { err, address }));
  assert.equal(one, undefined, 'never inside the call: net.connect expects its callback later');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.deepEqual(one, { err: null, address: '192.0.2.10', family: 4 }, 'answered on the next tick, before any I/O');
  assert.deepEqual(all, { err: null, address: ADDRS }, 'every address for net.connect\'s family autoselection');
  assert.equal(r.queries.length, 1, 'no second query');

  t += 5_001;
  const later = ask(cache, 'provider.example', false);
  assert.equal(r.queries.length, 2, 'asked again once the TTL ran out');
  r.queries[1]?.release();
  assert.equal((await later.result).address, '192.0.2.10');
});

test('players opening one provider at once share one query', async () => {
  const r = fakeResolver(() => ADDRS);
  const cache = createDnsCache({ ttlMs: 5_000, resolveAll: r.resolveAll });
  const answers = [ask(cache, 'a.example', false), ask(cache, 'a.example', true), ask(cache, 'a.example', false)];
  assert.equal(r.queries.length, 1);
  r.queries[0]?.release();
  const got = await Promise.all(answers.map((a) => a.result));
  assert.deepEqual(got.map((g) => g.address), ['192.0.2.10', ADDRS, '192.0.2.10']);
});

test('a failed lookup is not kept: the next connection asks again and gets the error as before', async () => {
  let fail = true;
  const r = fakeResolver(() => (fail ? new Error('getaddrinfo ENOTFOUND') : ADDRS));
  const cache = createDnsCache({ ttlMs: 5_000, resolveAll: r.resolveAll });
  const first = ask(cache, 'gone.example', false);
  r.queries[0]?.release();
  const err = (await first.result).err;
  assert.equal(err?.code, 'ENOTFOUND');
  assert.equal(cache.size, 0);
  fail = false;
  const second = ask(cache, 'gone.example', false);
  assert.equal(r.queries.length, 2);
  r.queries[1]?.release();
  assert.equal((await second.result).address, '192.0.2.10');
});

test('forget() drops a name under every family; other names stay; families are kept apart', async () => {
  const r = fakeResolver((host) => (host === 'v6.example' ? [{ address: '2001:db8::1', family: 6 }] : ADDRS));
  const cache = createDnsCache({ ttlMs: 5_000, resolveAll: r.resolveAll });
  for (const [host, family] of [['a.example', 0], ['a.example', 4], ['v6.example', 6]] as const) {
    const a = ask(cache, host, false, family);
    r.queries.at(-1)?.release();
    await a.result;
  }
  assert.equal(r.queries.length, 3, 'family 4 and family 0 are separate questions');
  assert.deepEqual(r.queries.map((q) => q.family), [0, 4, 6]);
  assert.equal(cache.size, 3);
  cache.forget('a.example');
  assert.equal(cache.size, 1);
  const again = ask(cache, 'a.example', false);
  assert.equal(r.queries.length, 4, 'a forgotten name is asked again');
  r.queries[3]?.release();
  await again.result;
});

test('the cache holds at most maxEntries names, dropping the oldest', async () => {
  const r = fakeResolver(() => ADDRS);
  const cache = createDnsCache({ ttlMs: 5_000, maxEntries: 2, resolveAll: r.resolveAll });
  for (const host of ['1.example', '2.example', '3.example']) {
    const a = ask(cache, host, false);
    r.queries.at(-1)?.release();
    await a.result;
  }
  assert.equal(cache.size, 2);
  const oldest = ask(cache, '1.example', false);
  assert.equal(r.queries.length, 4, 'the oldest name was dropped');
  r.queries[3]?.release();
  await oldest.result;
  const newest = ask(cache, '3.example', false);
  assert.equal((await newest.result).address, '192.0.2.10');
  assert.equal(r.queries.length, 4, 'the newest is still cached');
});
