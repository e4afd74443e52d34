// Webhook management API (SPEC §6): validate input, call the webhook service, answer. Every route needs the token.
import type { IncomingMessage } from 'node:http';
import { EVENT_TYPES, isEventType, type EventType } from '../../core/events.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { WebhookService, WebhookTarget } from '../../services/events/webhooks.ts';
import { isPlainObject, readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import { parseHeaders, requireHttpUrl } from '../validate.ts';

const DEFAULT_TIMEOUT_S = 10;
const MAX_TIMEOUT_S = 300;
const DEFAULT_RETRY_ATTEMPTS = 3;
const MAX_RETRY_ATTEMPTS = 10;

function parseEvents(value: unknown): EventType[] {
  if (value === undefined || value === null) return [...EVENT_TYPES];
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError(`events must be a non-empty array of: ${EVENT_TYPES.join(', ')}`);
  const out: EventType[] = [];
  for (const [i, v] of value.entries()) {
    if (!isEventType(v)) throw new ValidationError(`events[${i}] must be one of: ${EVENT_TYPES.join(', ')}`);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

function parseTimeoutMs(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_TIMEOUT_S * 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_S) {
    throw new ValidationError(`timeout must be a number of seconds above 0 and at most ${MAX_TIMEOUT_S}`);
  }
  return Math.round(value * 1000);
}

function parseRetryAttempts(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_RETRY_ATTEMPTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RETRY_ATTEMPTS) {
    throw new ValidationError(`retry_attempts must be an integer from 0 to ${MAX_RETRY_ATTEMPTS}`);
  }
  return value;
}

/** POST /webhooks body -> WebhookTarget; unknown fields are ignored. */
export function parseWebhookInput(body: unknown): WebhookTarget {
  if (!isPlainObject(body)) throw new ValidationError('Body must be a JSON object with a url');
  return {
    url: requireHttpUrl(body['url'], 'url'),
    events: parseEvents(body['events']),
    headers: parseHeaders(body['headers']),
    timeoutMs: parseTimeoutMs(body['timeout']),
    retryAttempts: parseRetryAttempts(body['retry_attempts']),
  };
}

/** webhook_url from the query string or, failing that, a JSON body (SPEC §6). */
async function webhookUrlOf(req: IncomingMessage, query: URLSearchParams): Promise<string> {
  const fromQuery = query.get('webhook_url');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  const body = await readJson(req);
  const fromBody = isPlainObject(body) ? body['webhook_url'] : undefined;
  if (typeof fromBody !== 'string' || fromBody === '') throw new ValidationError('webhook_url is required (query parameter or JSON body)');
  return fromBody;
}

export function webhookRoutes(webhooks: WebhookService): Route[] {
  return [
    {
      method: 'POST',
      path: '/webhooks',
      auth: true,
      async handler({ req, res }) {
        const target = parseWebhookInput(await readJson(req));
        const { created } = webhooks.add(target);
        await webhooks.saved();
        // The reference's message is kept for both cases so existing scripts match it; `updated` tells them apart.
        sendJson(res, 200, { message: 'Webhook added successfully', webhook_url: target.url, events: target.events, updated: !created });
      },
    },
    {
      method: 'GET',
      path: '/webhooks',
      auth: true,
      handler({ res }) {
        sendJson(res, 200, { webhooks: webhooks.list() });
      },
    },
    {
      method: 'DELETE',
      path: '/webhooks',
      auth: true,
      async handler({ req, res, query }) {
        const url = await webhookUrlOf(req, query);
        if (!webhooks.remove(url)) throw new NotFoundError('Webhook');
        await webhooks.saved();
        sendJson(res, 200, { message: 'Webhook removed successfully', webhook_url: url });
      },
    },
    {
      method: 'POST',
      path: '/webhooks/test',
      auth: true,
      async handler({ req, res, query }) {
        const url = await webhookUrlOf(req, query);
        const eventId = webhooks.test(url);
        if (eventId === undefined) throw new NotFoundError('Webhook');
        sendJson(res, 200, { message: 'Test event queued', webhook_url: url, event_id: eventId });
      },
    },
  ];
}
