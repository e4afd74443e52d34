// The Redis keys and channels of cluster mode (SPEC §16), in one place. Every key starts with PREFIX.

export const PREFIX = 'm3up:';

export const clusterKeys = {
  /** STRING, JSON StreamInput: a stream's definition. */
  stream: (id: string): string => `${PREFIX}stream:${id}`,
  /** STRING: the stream's URL position, written by the node that moved it (a failover). */
  position: (id: string): string => `${PREFIX}position:${id}`,
  /** SET of stream ids with a definition. */
  streams: `${PREFIX}streams`,
  /** STRING, hex: the generated URL_SECRET every node uses when none is configured. */
  urlSecret: `${PREFIX}url_secret`,
  /** STRING with PX: the node's internal base URL, present while the node lives. */
  node: (nodeId: string): string => `${PREFIX}node:${nodeId}`,
  /** SET of node ids that ever registered; a member whose node key expired is dead. */
  nodes: `${PREFIX}nodes`,
  /** STRING with PX, JSON {streamId: viewers}: the node's local viewer counts, rewritten every tick. */
  load: (nodeId: string): string => `${PREFIX}load:${nodeId}`,
  /** Pub/sub: definition changes, JSON {op, id, input?, from}. */
  registryChannel: `${PREFIX}registry`,
  /** Pub/sub: commands for whichever node can act on them, JSON {op: 'kick', stream, client, from}. */
  commandChannel: `${PREFIX}cmd`,
  /** HASH url -> JSON webhook target. */
  webhooks: `${PREFIX}webhooks`,
  /** Pub/sub: webhook changes, JSON {op, url, target?, from}. */
  webhooksChannel: `${PREFIX}webhooks-changed`,
} as const;
