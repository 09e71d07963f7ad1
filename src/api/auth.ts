// API security: bearer tokens with two roles, and the rule that a non-loopback API needs them.
//
// The token file (`[api] tokens_file`) has one token per line, `<role> <token>`, role `read` or `write`; blank
// lines and `#` comments are ignored. When it is configured every request needs `Authorization: Bearer <token>`
// (RFC 6750 §2.1): no token or an unknown one → 401 `unauthorized` with a `WWW-Authenticate: Bearer` challenge;
// a `read` token on a route whose fastify `config.role` is `write` → 403 `forbidden`. A route without a role is
// `read` for GET/HEAD and `write` otherwise, so a forgotten role never opens a write to readers.
//
// Tokens are kept as SHA-256 digests and looked up by the digest of the presented token: the comparison never
// runs over the secret itself, so its timing tells nothing about a valid token.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readErrorReason } from '../daemon/config.ts';
import { ApiError } from './errors.ts';

export const ROLES = ['read', 'write'] as const;
export type Role = (typeof ROLES)[number];

/** Tokens may hold the RFC 6750 b64token characters; at least 16 of them, so a token cannot be guessed. */
const TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;
export const MIN_TOKEN_LENGTH = 16;

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

/** Parses a token file's text; throws an Error listing every bad line (`file:line: …`). */
export function parseTokens(text: string, source: string): Map<string, Role> {
  const out = new Map<string, Role>();
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const where = `${source}:${i + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) {
      errors.push(`${where}: expected "<role> <token>" (role read or write)`);
      return;
    }
    const [role, token] = parts as [string, string];
    if (!(ROLES as readonly string[]).includes(role)) {
      errors.push(`${where}: unknown role "${role}" (expected read or write)`);
      return;
    }
    if (!TOKEN_RE.test(token) || token.length < MIN_TOKEN_LENGTH) {
      errors.push(
        `${where}: a token must be at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (e.g. openssl rand -hex 32)`,
      );
      return;
    }
    const d = digest(token);
    if (out.has(d)) errors.push(`${where}: this token is already listed`);
    else out.set(d, role as Role);
  });
  if (errors.length > 0) throw new Error(errors.join('\n'));
  if (out.size === 0) throw new Error(`${source}: no tokens (every request would be refused)`);
  return out;
}

/** The tokens of `[api] tokens_file`, re-readable on SIGHUP. */
export class TokenStore {
  readonly path: string;
  private tokens: Map<string, Role>;

  private constructor(path: string, tokens: Map<string, Role>) {
    this.path = path;
    this.tokens = tokens;
  }

  /** Reads the file; throws an Error whose message says what is wrong (for start-up and `--check`). */
  static load(path: string): TokenStore {
    return new TokenStore(path, TokenStore.read(path));
  }

  /** From text (tests). */
  static fromText(text: string, source = 'tokens'): TokenStore {
    return new TokenStore(source, parseTokens(text, source));
  }

  private static read(path: string): Map<string, Role> {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`${path}: cannot read the tokens file: ${readErrorReason(e)}`);
    }
    return parseTokens(text, path);
  }

  /** Re-reads the file; on error the current tokens stay and the error is thrown. */
  reload(): number {
    this.tokens = TokenStore.read(this.path);
    return this.tokens.size;
  }

  get size(): number {
    return this.tokens.size;
  }

  roleOf(token: string): Role | null {
    return this.tokens.get(digest(token)) ?? null;
  }
}

/** The role a route needs: its `config.role`, else read for GET/HEAD and write for anything else. */
export function requiredRole(req: FastifyRequest): Role {
  const r = (req.routeOptions.config as { role?: unknown } | undefined)?.role;
  if (r === 'read' || r === 'write') return r;
  return req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
}

/** Adds the authentication hook. Runs first (onRequest), before the body is even read. */
export function registerAuth(app: FastifyInstance, tokens: TokenStore): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!m) {
      reply.header('www-authenticate', 'Bearer realm="tsbgp"');
      throw new ApiError('unauthorized', 'this API needs "Authorization: Bearer <token>" (see [api] tokens_file)');
    }
    const role = tokens.roleOf(m[1]!);
    if (role === null) {
      reply.header('www-authenticate', 'Bearer realm="tsbgp", error="invalid_token"');
      throw new ApiError('unauthorized', 'the bearer token is not valid');
    }
    if (role === 'read' && requiredRole(req) === 'write') {
      throw new ApiError('forbidden', `a read token cannot ${req.method} ${req.url.split('?')[0]} (needs write)`);
    }
  });
}

/** What buildApi needs from `[api]` for security: the tokens and the TLS certificate, read from their files. */
export interface ApiSecurity {
  tokens?: TokenStore;
  https?: { cert: Buffer; key: Buffer };
}

/**
 * Reads `[api] tokens_file`, `tls_cert` and `tls_key`. Throws an Error naming the file and the problem (the daemon
 * refuses to start; `tsbgp daemon --check` reports it).
 */
export function loadApiSecurity(api: { tokensFile?: string; tlsCert?: string; tlsKey?: string }): ApiSecurity {
  const out: ApiSecurity = {};
  if (api.tokensFile !== undefined) out.tokens = TokenStore.load(api.tokensFile);
  if (api.tlsCert !== undefined && api.tlsKey !== undefined) {
    const cert = readPem(api.tlsCert, 'api.tls_cert', /-----BEGIN CERTIFICATE-----/);
    const key = readPem(api.tlsKey, 'api.tls_key', /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/);
    try {
      // Fails now, with the reason, rather than at listen() with a generic TLS error.
      createSecureContext({ cert, key });
    } catch (e) {
      throw new Error(`api.tls_cert/api.tls_key: ${api.tlsCert} and ${api.tlsKey}: ${(e as Error).message}`);
    }
    out.https = { cert, key };
  }
  return out;
}

function readPem(path: string, key: string, marker: RegExp): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new Error(`${key}: ${path}: ${readErrorReason(e)}`);
  }
  if (!marker.test(data.toString('latin1'))) throw new Error(`${key}: ${path}: not a PEM file of the expected kind`);
  return data;
}
