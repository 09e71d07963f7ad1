// A thin HTTP client of the tsbgp API for the CLI. The CLI never touches the daemon any other way.
// Every failure becomes a CliError with one line for people: the API's own {code, message}, or why the API
// could not be reached at all.

export const DEFAULT_API_URL = 'http://127.0.0.1:8179';
/** How long one request may take before the CLI gives up. */
const TIMEOUT_MS = 30_000;

/** An error the CLI prints as one line (`tsbgp: …`) before exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is `tsbgp daemon` running?)',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'address not available',
};

function netReason(err: unknown): string {
  let e: unknown = err;
  // fetch wraps the socket error: TypeError("fetch failed", { cause }), sometimes an AggregateError inside.
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: string }).code;
    if (code && NET_ERRORS[code]) return NET_ERRORS[code];
    if (code && code !== 'UND_ERR_SOCKET') return code;
    const inner: unknown =
      (e as { cause?: unknown; errors?: unknown[] }).cause ?? (e as { errors?: unknown[] }).errors?.[0];
    if (!inner) break;
    e = inner;
  }
  return (err as Error).message ?? String(err);
}

export class ApiClient {
  readonly base: string;

  constructor(base: string) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new UsageError(`--api: "${base}" is not a URL (expected e.g. ${DEFAULT_API_URL})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`--api: "${base}" must be an http:// or https:// URL`);
    }
    this.base = base.replace(/\/+$/, '');
  }

  /** GET `path` (starting with /api/v1); returns the parsed JSON body, or throws CliError. */
  async get<T>(path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new CliError(`the API at ${this.base} did not answer within ${TIMEOUT_MS / 1000} s`);
      }
      throw new CliError(`cannot reach the API at ${this.base}: ${netReason(err)}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      throw new CliError(`the API at ${this.base} answered ${res.status} with something that is not JSON`);
    }
    if (!res.ok) {
      const e = body as { code?: string; message?: string } | null;
      if (e && typeof e.message === 'string') throw new CliError(`${e.message} (${e.code ?? res.status})`);
      throw new CliError(`the API at ${this.base} answered HTTP ${res.status}`);
    }
    return body as T;
  }
}
