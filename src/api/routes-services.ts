// Health-checked services and ExaBGP helper programs over HTTP (issue 5): list and show services with their state,
// last check results, announcement, damping and history; drain and undrain them; list the processes.
// docs/api.md documents every endpoint here, openapi-services.ts describes them; keep the three in step.
//
// Like the other route files, handlers only parse the request and call one DaemonServices method; each route declares
// its role for the token check (GET read, POST write).

import type { FastifyInstance } from 'fastify';
import type { DaemonServices, ServiceDetailView } from '../daemon/services.ts';
import type { DaemonApi } from '../daemon/types.ts';
import { ApiError } from './errors.ts';

const PREFIX = '/api/v1';
/** The [[services]] name rule (src/health/config.ts). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

type Query = Record<string, string | string[] | undefined>;

/** True when the daemon runs services and processes (the real Speaker does; read-only test fakes may not). */
export function isDaemonServices(d: DaemonApi): d is DaemonApi & DaemonServices {
  return typeof (d as Partial<DaemonServices>).drainService === 'function';
}

function noQuery(query: Query): void {
  for (const k of Object.keys(query)) throw new ApiError('bad_request', `unknown query parameter "${k}"`, k);
}

function serviceName(text: string): string {
  if (!NAME.test(text)) {
    throw new ApiError('bad_request', `"${text}" is not a service name (letters, digits, "_", ".", "-")`, 'name');
  }
  return text;
}

function found(name: string, v: ServiceDetailView | null): ServiceDetailView {
  if (v === null) throw new ApiError('service_not_found', `no service "${name}" is configured`, 'name');
  return v;
}

/** Registers GET /services, GET /services/{name}, POST …/drain and …/undrain, GET /processes. */
export function registerServiceRoutes(app: FastifyInstance, daemon: DaemonApi): void {
  if (!isDaemonServices(daemon)) return;
  const d = daemon;
  const read = { config: { role: 'read' as const } };
  const write = { config: { role: 'write' as const } };

  app.get(`${PREFIX}/services`, read, async (req) => {
    noQuery(req.query as Query);
    return d.services();
  });

  app.get<{ Params: { name: string } }>(`${PREFIX}/services/:name`, read, async (req) => {
    noQuery(req.query as Query);
    const name = serviceName(req.params.name);
    return found(name, d.service(name));
  });

  for (const action of ['drain', 'undrain'] as const) {
    app.post<{ Params: { name: string } }>(`${PREFIX}/services/:name/${action}`, write, async (req) => {
      noQuery(req.query as Query);
      const name = serviceName(req.params.name);
      return found(name, action === 'drain' ? d.drainService(name) : d.undrainService(name));
    });
  }

  app.get(`${PREFIX}/processes`, read, async (req) => {
    noQuery(req.query as Query);
    return d.processes();
  });
}
