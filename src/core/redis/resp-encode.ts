// RESP2 command encoding: one Buffer per command (an array of bulk strings), so a pipeline is one write each.

export type RedisArg = string | number | Buffer;

export function encodeCommand(args: readonly RedisArg[]): Buffer {
  const parts: Buffer[] = [];
  let head = `*${args.length}\r\n`;
  for (const arg of args) {
    if (Buffer.isBuffer(arg)) {
      parts.push(Buffer.from(`${head}$${arg.length}\r\n`, 'utf8'), arg);
      head = '\r\n';
    } else {
      const s = String(arg);
      head += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    }
  }
  parts.push(Buffer.from(head, 'utf8'));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}
