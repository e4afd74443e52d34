// One handler per CLI command: build the request, call the server, print the answer as text or raw JSON; returns the exit code.
import { UsageError, type CommandName } from './args.ts';
import type { CommandContext } from './context.ts';
import { asObject, str, strings } from './format.ts';
import { runMonitor } from './monitor.ts';
import { renderCreated, renderFailover, renderHealth, renderInfo, renderList, renderStats, renderWebhooks } from './views.ts';

type Handler = (ctx: CommandContext) => Promise<number>;

function print(ctx: CommandContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** --json prints the server's answer untouched (pretty-printed); otherwise the renderer's text. */
function show(ctx: CommandContext, body: unknown, render: (body: unknown) => string): void {
  print(ctx, ctx.globals.json ? JSON.stringify(body, null, 2) : render(body));
}

function arg(ctx: CommandContext, i: number): string {
  const v = ctx.args[i];
  if (v === undefined) throw new UsageError('missing argument'); // args.ts checks counts first; this guards a table mistake
  return v;
}

function list(ctx: CommandContext, name: string): string[] {
  const v = ctx.options[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** `K:V` pairs → headers; CR/LF are left for the server to refuse (SPEC §3.1 answers 422). */
function parsePairs(items: readonly string[], sep: ':' | '=', flag: string): Record<string, string> | null {
  if (items.length === 0) return null;
  const out: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf(sep);
    const key = at < 0 ? '' : item.slice(0, at).trim();
    if (key === '') throw new UsageError(`create: --${flag} '${item}' must look like ${sep === ':' ? 'Name: value' : 'key=value'}`);
    out[key] = item.slice(at + 1).trim();
  }
  return out;
}

const id = (ctx: CommandContext) => encodeURIComponent(arg(ctx, 0));

const HANDLERS: Record<CommandName, Handler> = {
  async create(ctx) {
    const userAgent = ctx.options['user-agent'];
    const body = {
      url: arg(ctx, 0),
      failover_urls: list(ctx, 'failover'),
      user_agent: typeof userAgent === 'string' ? userAgent : null,
      headers: parsePairs(list(ctx, 'header'), ':', 'header'),
      metadata: parsePairs(list(ctx, 'meta'), '=', 'meta'),
    };
    show(ctx, await ctx.api.request('POST', '/streams', body), (b) => renderCreated(b, ctx.globals.url));
    return 0;
  },
  async list(ctx) {
    show(ctx, await ctx.api.request('GET', '/streams'), renderList);
    return 0;
  },
  async info(ctx) {
    show(ctx, await ctx.api.request('GET', `/streams/${id(ctx)}`), (b) => renderInfo(b, ctx.now()));
    return 0;
  },
  async delete(ctx) {
    show(ctx, await ctx.api.request('DELETE', `/streams/${id(ctx)}`), (b) => str(asObject(b), 'message') ?? 'Deleted');
    return 0;
  },
  async failover(ctx) {
    show(ctx, await ctx.api.request('POST', `/streams/${id(ctx)}/failover`), renderFailover);
    return 0;
  },
  async stats(ctx) {
    show(ctx, await ctx.api.request('GET', '/stats'), (b) => renderStats(b, ctx.now()));
    return 0;
  },
  async health(ctx) {
    const body = await ctx.api.request('GET', '/health');
    show(ctx, body, renderHealth);
    return str(asObject(body), 'status') === 'healthy' ? 0 : 1;
  },
  monitor(ctx) {
    return runMonitor(ctx);
  },
  async webhooks(ctx) {
    const action = arg(ctx, 0);
    if (action === 'list') {
      show(ctx, await ctx.api.request('GET', '/webhooks'), renderWebhooks);
      return 0;
    }
    const url = arg(ctx, 1);
    const query = `?webhook_url=${encodeURIComponent(url)}`;
    if (action === 'add') {
      const events = list(ctx, 'event');
      const body = await ctx.api.request('POST', '/webhooks', events.length === 0 ? { url } : { url, events });
      show(ctx, body, (b) => {
        const o = asObject(b);
        const ev = strings(o, 'events');
        return `${str(o, 'message') ?? 'Webhook added'}: ${str(o, 'webhook_url') ?? url} (events: ${ev.length === 0 ? 'all' : ev.join(', ')})`;
      });
    } else if (action === 'remove') {
      show(ctx, await ctx.api.request('DELETE', `/webhooks${query}`), (b) => str(asObject(b), 'message') ?? `Webhook ${url} removed`);
    } else {
      show(ctx, await ctx.api.request('POST', `/webhooks/test${query}`), (b) => {
        const o = asObject(b);
        const eventId = str(o, 'event_id');
        return `${str(o, 'message') ?? `Test event sent to ${url}`}${eventId === undefined ? '' : ` (event ${eventId})`}`;
      });
    }
    return 0;
  },
};

export function runCommand(name: CommandName, ctx: CommandContext): Promise<number> {
  return HANDLERS[name](ctx);
}
