// Small builders for the hand-written OpenAPI 3.1 documents (openapi.ts, openapi-services.ts): schema shorthands,
// a JSON response, the error responses of a set of statuses, and an operation with its token role.

import { API_ERRORS } from './errors.ts';

export type Json = Record<string, unknown>;

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (type: string): Json => ({ type: [type, 'null'] });
export const arrayOf = (items: Json): Json => ({ type: 'array', items });
export const obj = (
  properties: Record<string, Json>,
  required: string[] = Object.keys(properties),
  extra: Json = {},
): Json => ({
  type: 'object',
  properties,
  required,
  ...extra,
});

export const json = (schema: Json, description = 'OK'): Json => ({
  description,
  content: { 'application/json': { schema } },
});

/** Error responses by status, each a JSON {code, message, field?}. */
export function errors(...statuses: number[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const s of statuses) {
    const codes = Object.entries(API_ERRORS)
      .filter(([, st]) => st === s)
      .map(([c]) => c);
    // A status no registered code maps to yet is left out rather than documented with no code.
    if (codes.length > 0) out[String(s)] = json(ref('Error'), `error: ${codes.join(', ')}`);
  }
  return out;
}

/** An operation; `x-role` is the token role it needs (auth.ts). */
export function op(
  role: 'read' | 'write',
  operationId: string,
  summary: string,
  responses: Record<string, Json>,
  extra: Json = {},
): Json {
  return { operationId, summary, 'x-role': role, ...extra, responses };
}
