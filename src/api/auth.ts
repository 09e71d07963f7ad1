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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
      throw new Error(`${path}: cannot read the tokens file: ${why}`);
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

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === '::1' || h === 'localhost') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
