// Writing answers: JSON bodies and JSON errors (SPEC §9). CORS headers are http/cors.ts's.
import type { ServerResponse } from 'node:http';
import { type AppError, MethodNotAllowedError, toBody } from '../errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export function sendError(res: ServerResponse, err: AppError): void {
  const headers: Record<string, string> = {};
  if (err.status === 401 || (err.status === 403 && err.code === 'FORBIDDEN')) headers['www-authenticate'] = 'Bearer';
  if (err instanceof MethodNotAllowedError) headers['allow'] = err.allowed.join(', ');
  sendJson(res, err.status, toBody(err), headers);
}
