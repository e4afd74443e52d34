// Typed proxy events (SPEC §6) and the in-process bus that fans them out to subscribers such as webhooks.
import { randomUUID } from 'node:crypto';

export const EVENT_TYPES = [
  'stream_started',
  'stream_stopped',
  'stream_failed',
  'client_connected',
  'client_disconnected',
  'failover_triggered',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type EventData = { metadata: Record<string, string> } & Record<string, unknown>;

export interface ProxyEvent {
  event_id: string;
  event_type: EventType;
  stream_id: string;
  timestamp: string;
  data: EventData;
}

export type EventListener = (event: ProxyEvent) => void;

export interface EventBus {
  emit(type: EventType, streamId: string, data: EventData): ProxyEvent;
  subscribe(listener: EventListener): () => void;
}

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Listeners run synchronously and must not throw or block: delivery work (webhooks) queues and returns.
 * A throwing listener is reported through onListenerError so one bad subscriber cannot break another.
 */
export function createEventBus(options: { now?: () => number; onListenerError?: (err: unknown) => void } = {}): EventBus {
  const listeners = new Set<EventListener>();
  const now = options.now ?? Date.now;
  return {
    emit(type, streamId, data) {
      const event: ProxyEvent = {
        event_id: randomUUID(),
        event_type: type,
        stream_id: streamId,
        timestamp: new Date(now()).toISOString(),
        data,
      };
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (err) {
          options.onListenerError?.(err);
        }
      }
      return event;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
