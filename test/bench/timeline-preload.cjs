// Preloaded (`node -r`) into the proxy and Node's floor by first-byte-timeline.ts: stamps each cold open's steps on
// CLOCK_MONOTONIC, which every process shares, so they line up with the client's own stamps. Plain CommonJS: it
// must load before the proxy's bundle without a loader of its own. Written to TIMELINE_OUT at exit. Not run by CI.
'use strict';
const dc = require('node:diagnostics_channel');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');

const now = () => Number(process.hrtime.bigint()) / 1e6;
/** One record per player request of a media path: the times of its steps, in ms. */
const records = [];
let current;
const bySocket = new WeakMap();

dc.subscribe('http.server.request.start', ({ request }) => {
  const url = request.url || '';
  if (!url.startsWith('/live/') && !url.startsWith('/small/') && !url.startsWith('/stream/')) return;
  current = { request: now() };
  records.push(current);
  bySocket.set(request.socket, current);
});

// The first upstream request made after a player's request arrived is that player's (the probes come one at a time).
const request = http.request;
http.request = function timedRequest(...args) {
  const r = current;
  const first = r !== undefined && r.call === undefined;
  if (first) r.call = now();
  const req = request.apply(this, args);
  if (first) {
    r.returned = now();
    req.once('socket', (socket) => socket.once('connect', () => (r.connected = now())));
    req.once('response', () => (r.response = now()));
  }
  return req;
};

// Every socket write goes through _writeGeneric (_writev calls it too): the player's socket's first is the first write.
const writeGeneric = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function timedWrite(...args) {
  const r = bySocket.get(this);
  if (r !== undefined && r.write === undefined) r.write = now();
  return writeGeneric.apply(this, args);
};

process.on('exit', () => {
  if (process.env.TIMELINE_OUT) fs.writeFileSync(process.env.TIMELINE_OUT, JSON.stringify(records));
});
