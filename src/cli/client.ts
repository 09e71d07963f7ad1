// A thin HTTP client of the tsbgp API for the CLI. The CLI never touches the daemon any other way.
//
// Built on node:http/node:https rather than fetch so that an HTTPS API with a private CA (`--ca FILE`) works, and
// so that the watch stream is read as it arrives. Every failure becomes a CliError with one line for people and an
// exit code: 1 when the daemon answered with an error (its {code, message} and the HTTP status), 3 when the API
// could not be reached at all (refused, timed out, TLS failure, connection lost).

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

export const DEFAULT_API_URL = 'http://127.0.0.1:8179';
/** How long one request may take before the CLI gives up (a batch of a million routes needs longer: writeTimeoutMs). */
const TIMEOUT_MS = 30_000;

export const ExitCode = { OK: 0, DAEMON_ERROR: 1, USAGE: 2, UNREACHABLE: 3 } as const;

/** An error the CLI prints as one line (`tsbgp: …`) before exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.DAEMON_ERROR) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
    this.name = 'UsageError';
  }
}

/** The daemon answered with an error: its code and field are kept for callers that map fields (route files). */
export class ApiAnswerError extends CliError {
  readonly status: number;
  readonly code: string | undefined;
  readonly field: string | undefined;
  readonly apiMessage: string;
  constructor(status: number, apiMessage: string, code: string | undefined, field: string | undefined) {
    super(`${apiMessage} (HTTP ${status}${code ? ` ${code}` : ''})`, ExitCode.DAEMON_ERROR);
    this.name = 'ApiAnswerError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.apiMessage = apiMessage;
  }
}

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is `tsbgp daemon` running?)',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'address not available',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed (give its CA with --ca FILE or TSBGP_CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain is not trusted (give its CA with --ca FILE or TSBGP_CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate is not trusted (give its CA with --ca FILE or TSBGP_CA)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is not for this host name',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  EPROTO: 'TLS handshake failed (is the API plain HTTP? use http://)',
  HPE_INVALID_CONSTANT: 'the answer is not HTTP (is the API HTTPS? use https://)',
};

function netReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code && NET_ERRORS[code]) return NET_ERRORS[code];
  return (err as Error).message ?? String(err);
}

export interface ClientOptions {
  /** Bearer token (TSBGP_TOKEN or --token-file). */
  token?: string;
  /** PEM CA certificate(s) to trust for an https:// API (--ca / TSBGP_CA). */
  ca?: Buffer;
}

export interface Answer<T> {
  status: number;
  body: T;
}

export class ApiClient {
  readonly base: string;
  private readonly url: URL;
  private readonly opts: ClientOptions;

  constructor(base: string, opts: ClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new UsageError(`--api: "${base}" is not a URL (expected e.g. ${DEFAULT_API_URL})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`--api: "${base}" must be an http:// or https:// URL`);
    }
    this.url = url;
    this.base = base.replace(/\/+$/, '');
    this.opts = opts;
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    onResponse: (res: IncomingMessage, done: (v: unknown) => void, fail: (e: Error) => void) => void,
  ): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json, text/event-stream' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const target = new URL(this.url.pathname.replace(/\/+$/, '') + path, this.url);
    const mod = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (v: unknown) => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      const fail = (e: Error) => {
        if (!settled) {
          settled = true;
          reject(e);
        }
      };
      const req = mod.request(
        target,
        { method, headers, ...(this.opts.ca && target.protocol === 'https:' ? { ca: this.opts.ca } : {}) },
        (res) => onResponse(res, done, fail),
      );
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => {
          req.destroy();
          fail(
            new CliError(`the API at ${this.base} did not answer within ${timeoutMs / 1000} s`, ExitCode.UNREACHABLE),
          );
        });
      }
      req.on('error', (err) => {
        fail(new CliError(`cannot reach the API at ${this.base}: ${netReason(err)}`, ExitCode.UNREACHABLE));
      });
      req.end(payload);
    });
  }

  /** One request; resolves with the parsed JSON answer, or throws CliError (an ApiAnswerError for a 4xx/5xx). */
  async request<T>(method: string, path: string, body?: unknown, timeoutMs = TIMEOUT_MS): Promise<Answer<T>> {
    return (await this.send(method, path, body, timeoutMs, (res, done, fail) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => fail(new CliError(`connection to ${this.base} lost: ${netReason(err)}`, 3)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = null;
        if (text !== '') {
          try {
            parsed = JSON.parse(text);
          } catch {
            fail(new CliError(`the API at ${this.base} answered HTTP ${status} with something that is not JSON`));
            return;
          }
        }
        if (status >= 400) {
          const e = parsed as { code?: string; message?: string; field?: string } | null;
          if (e && typeof e.message === 'string') fail(new ApiAnswerError(status, e.message, e.code, e.field));
          else fail(new CliError(`the API at ${this.base} answered HTTP ${status}`));
          return;
        }
        done({ status, body: parsed as T });
      });
    })) as Answer<T>;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
  }

  /**
   * GET a text/event-stream and call `onEvent` per event until the server ends it (resolves) or the connection
   * fails (rejects with exit code 3). `stop()` on the returned handle closes it; the promise then resolves.
   */
  stream(path: string, onEvent: (event: string, data: string) => void): { done: Promise<void>; stop(): void } {
    let response: IncomingMessage | null = null;
    let stopped = false;
    const done = this.send('GET', path, undefined, 0, (res, resolve, fail) => {
      response = res;
      const status = res.statusCode ?? 0;
      if (status >= 400) {
        // An error before the stream started is a JSON body.
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let e: { code?: string; message?: string; field?: string } | null = null;
          try {
            e = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {}
          fail(
            e && typeof e.message === 'string'
              ? new ApiAnswerError(status, e.message, e.code, e.field)
              : new CliError(`the API at ${this.base} answered HTTP ${status}`),
          );
        });
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          i = buf.indexOf('\n\n');
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0) onEvent(event, data.join('\n'));
        }
      });
      res.on('end', () => resolve(undefined));
      res.on('error', (err) => {
        if (stopped) resolve(undefined);
        else fail(new CliError(`connection to ${this.base} lost: ${netReason(err)}`, ExitCode.UNREACHABLE));
      });
      res.on('close', () => {
        if (stopped || res.complete) resolve(undefined);
        else fail(new CliError(`connection to ${this.base} lost`, ExitCode.UNREACHABLE));
      });
    }) as Promise<void>;
    return {
      done,
      stop: () => {
        stopped = true;
        (response as IncomingMessage | null)?.destroy();
      },
    };
  }
}
