// The non-owner side of a relay (SPEC §16): a viewer on this node is fed from the channel owner's internal relay
// route, never from a second provider connection. One internal request per viewer; the viewer is this node's client
// (counted and reported here), and when the owner goes away the viewer's connection ends so the player reconnects
// and finds the channel's next owner.
import { request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { ClientInfo, Registry, StreamRecord } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import { DISCONNECT_REASONS } from '../continuous/proxy-session.ts';
import { clusterAuthorization } from './secret.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';

export const RELAY_PATH = '/internal/relay/';
/** Header naming the asking node, for the owner's log. */
export const RELAY_NODE_HEADER = 'x-m3u-proxy-node';

export interface RelayClientDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  secret: string;
  nodeId: string;
  /** Connect plus response headers from the owner. */
  timeoutMs: number;
}

export interface RelayViewer {
  res: ServerResponse;
  stream: StreamRecord;
  clientId: string;
  info: ClientInfo;
}

/** Hop-by-hop and framing headers are this node's business, not the owner's. */
const DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

export type RelayClient = ReturnType<typeof createRelayClient>;

export function createRelayClient(deps: RelayClientDeps) {
  const { registry, streams, logger } = deps;

  /** The owner's relay answer (200 only), or undefined when it refused or could not be reached. */
  function open(ownerUrl: string, streamId: string, signal: AbortSignal): Promise<IncomingMessage | undefined> {
    const url = new URL(`${ownerUrl}${RELAY_PATH}${encodeURIComponent(streamId)}`);
    const send = url.protocol === 'https:' ? httpsRequest : request;
    return new Promise((resolve) => {
      const req = send(url, {
        method: 'GET',
        agent: false,
        signal,
        headers: { authorization: clusterAuthorization(deps.secret), [RELAY_NODE_HEADER]: deps.nodeId, 'user-agent': 'm3u-proxy-relay' },
      });
      const timer = setTimeout(() => req.destroy(new Error('relay connect timeout')), deps.timeoutMs);
      req.once('response', (up) => {
        clearTimeout(timer);
        if (up.statusCode === 200) return resolve(up);
        up.resume();
        up.destroy();
        resolve(undefined);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        logger.debug('relay from the channel owner failed', { stream: streamId, owner: ownerUrl, error: String(err) });
        resolve(undefined);
      });
      req.end();
    });
  }

  /** Feeds the viewer from the owner until either side ends; false when the owner could not be reached. */
  async function serve(v: RelayViewer, ownerUrl: string): Promise<boolean> {
    const { res, stream } = v;
    const abort = new AbortController();
    const onEarlyClose = (): void => abort.abort();
    res.once('close', onEarlyClose);
    const up = await open(ownerUrl, stream.id, abort.signal);
    res.off('close', onEarlyClose);
    if (up === undefined) return abort.signal.aborted;
    if (res.destroyed) {
      up.destroy();
      return true;
    }
    const client = streams.openSession(stream, v.clientId, v.info, 'relayed');
    const headers: Record<string, string | string[]> = {};
    for (const [k, val] of Object.entries(up.headers)) if (val !== undefined && !DROP.has(k)) headers[k] = val;
    res.writeHead(200, headers);
    await new Promise<void>((resolve) => {
      let ended = false;
      const end = (reason: DisconnectReason): void => {
        if (ended) return;
        ended = true;
        unregister();
        up.destroy();
        if (!res.writableEnded && !res.destroyed) res.destroy();
        streams.endClient(client, reason);
        resolve();
      };
      const unregister = deps.connections.add({
        client,
        abort: (reason) => end(DISCONNECT_REASONS.has(reason) ? (reason as DisconnectReason) : 'closed'),
      });
      up.on('data', (chunk: Buffer) => {
        registry.addBytes(client, stream, chunk.length);
        if (!res.write(chunk)) up.pause();
      });
      res.on('drain', () => up.resume());
      up.once('end', () => end('closed'));
      up.once('error', () => end('error'));
      up.once('close', () => end('error'));
      res.once('close', () => end('closed'));
    });
    return true;
  }

  return { serve };
}

/** The client id the owner records for a relaying node's session, for the logs and /streams/{id}. */
export function relayClientId(nodeId: string): string {
  return `cluster-relay:${nodeId}`;
}
