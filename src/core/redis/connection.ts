// One TCP or TLS socket to Redis, feeding a RESP parser; a protocol error destroys the socket ('close' follows).

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { RespParser } from './resp-parser.ts';
import type { RedisTarget } from './url.ts';

export function openRedisSocket(target: RedisTarget, parser: RespParser, connectTimeoutMs: number, onConnect: (socket: Socket) => void): Socket {
  const { host, port, tls } = target;
  const socket = tls ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
  socket.setNoDelay(true);
  socket.setTimeout(connectTimeoutMs, () => socket.destroy(new Error('connect timeout')));
  socket.once(tls ? 'secureConnect' : 'connect', () => {
    socket.setTimeout(0);
    onConnect(socket);
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      parser.push(chunk);
    } catch (err) {
      socket.destroy(err as Error);
    }
  });
  return socket;
}
