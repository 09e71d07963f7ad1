// The services and processes endpoints in process (fastify.inject, no network) against a real Speaker whose
// service runs on a manual clock with scripted check results: list, show with history, drain/undrain with the
// route following, errors (unknown service, bad name, unknown query), roles with bearer tokens, GET /processes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Speaker } from '../daemon/speaker.ts';
import { fakeSpeaker, GLOBAL_TOML, neighborToml } from '../daemon/testing.ts';
import { scriptedProbe } from '../health/testing.ts';
import { ManualTimer } from '../health/timer.ts';
import { TokenStore } from './auth.ts';
import { buildApi } from './server.ts';

const READ = 'r'.repeat(20);
const WRITE = 'w'.repeat(20);

const TOML = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001)}
[[services]]
name = "web"
prefixes = ["198.51.100.10/32"]
interval = 1
rise = 1
fall = 1
[[services.checks]]
type = "tcp"
target = "127.0.0.1:1"

[[processes]]
name = "idle"
run = ["/bin/sh", "-c", "exec cat >/dev/null"]
`;

describe('services API (in process)', () => {
  let app: FastifyInstance;
  let secured: FastifyInstance;
  let speaker: Speaker;
  const timer = new ManualTimer();
  const probe = scriptedProbe('ok');

  before(async () => {
    ({ speaker } = fakeSpeaker(TOML, {
      shutdownGraceMs: 100,
      serviceDeps: () => ({ timer, probe: probe.probe, fileExists: async () => false }),
      processOptions: { stopTimeoutMs: 2000, termDelayMs: 10 },
    }));
    await speaker.start();
    await timer.advance(0);
    app = buildApi(speaker);
    secured = buildApi(speaker, { tokens: TokenStore.fromText(`read ${READ}\nwrite ${WRITE}\n`) });
  });

  after(async () => {
    await app.close();
    await secured.close();
    await speaker.shutdown();
  });

  const call = async (method: 'GET' | 'POST', url: string, token?: string) => {
    const r = await (token ? secured : app).inject({
      method,
      url,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    return { status: r.statusCode, body: r.json() as Record<string, unknown> & Record<number, unknown> };
  };
  const localRoute = () =>
    speaker.rib('ipv4-unicast', {}).routes.find((r) => r.prefix === '198.51.100.10/32' && r.from === 'local');

  it('GET /services lists each service with its state, announcement and last check', async () => {
    const r = await call('GET', '/api/v1/services');
    assert.equal(r.status, 200);
    const list = r.body as unknown as Record<string, unknown>[];
    assert.equal(list.length, 1);
    const s = list[0]!;
    assert.equal(s.name, 'web');
    assert.equal(s.mode, 'prefixes');
    assert.equal(s.state, 'up');
    assert.equal(s.announced, true);
    assert.deepEqual(s.prefixes, ['198.51.100.10/32']);
    assert.deepEqual(s.announcement, {
      next_hop: 'self',
      med: null,
      local_pref: null,
      as_path_prepend: 0,
      communities: [],
      large_communities: [],
    });
    assert.deepEqual(s.overridden, []);
    assert.equal((s.last_check as { status: string }).status, 'ok');
    assert.match((s.last_check as { at: string }).at, /^\d{4}-\d\d-\d\dT/);
    assert.equal((s as { history?: unknown }).history, undefined, 'history only in GET /services/{name}');
  });

  it('GET /services/{name} adds the history; unknown and malformed names are errors', async () => {
    const r = await call('GET', '/api/v1/services/web');
    assert.equal(r.status, 200);
    const h = r.body.history as { from: string; to: string; announced: boolean }[];
    assert.deepEqual(
      h.map((x) => [x.from, x.to, x.announced]),
      [['init', 'up', true]],
    );
    const missing = await call('GET', '/api/v1/services/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'service_not_found');
    assert.equal(missing.body.field, 'name');
    const bad = await call('GET', '/api/v1/services/-x');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'bad_request');
    const q = await call('GET', '/api/v1/services?x=1');
    assert.equal(q.status, 400);
  });

  it('POST drain withdraws the route, undrain announces it again', async () => {
    assert.ok(localRoute());
    const d = await call('POST', '/api/v1/services/web/drain');
    assert.equal(d.status, 200);
    assert.equal(d.body.state, 'drained');
    const drained = d.body.drained as { file: boolean; api: boolean; since: string | null };
    assert.equal(drained.api, true);
    assert.equal(drained.file, false);
    assert.match(drained.since ?? '', /^\d{4}-/);
    assert.equal(localRoute(), undefined);
    const u = await call('POST', '/api/v1/services/web/undrain');
    assert.equal(u.status, 200);
    assert.equal(u.body.state, 'up');
    assert.ok(localRoute());
    assert.equal((await call('POST', '/api/v1/services/nope/drain')).status, 404);
  });

  it('roles: a read token lists but cannot drain; a write token drains', async () => {
    assert.equal((await call('GET', '/api/v1/services', READ)).status, 200);
    const denied = await call('POST', '/api/v1/services/web/drain', READ);
    assert.equal(denied.status, 403);
    assert.equal((await call('POST', '/api/v1/services/web/drain', WRITE)).status, 200);
    assert.equal((await call('POST', '/api/v1/services/web/undrain', WRITE)).status, 200);
  });

  it('GET /processes shows each program', async () => {
    for (let i = 0; i < 250; i++) {
      const list = (await call('GET', '/api/v1/processes')).body as unknown as { state: string }[];
      if (list[0]?.state === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await call('GET', '/api/v1/processes');
    assert.equal(r.status, 200);
    const p = (r.body as unknown as Record<string, unknown>[])[0]!;
    assert.equal(p.name, 'idle');
    assert.equal(p.state, 'running');
    assert.equal(typeof p.pid, 'number');
    assert.equal(p.starts, 1);
    assert.equal(p.respawns, 0);
    assert.equal(p.routes, 0);
    assert.deepEqual(p.neighbors, []);
  });
});
