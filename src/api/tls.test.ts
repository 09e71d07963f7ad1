// HTTPS: a self-signed certificate made with openssl in a temp dir, the API served over TLS and checked with
// node:https against that CA; token-file and PEM errors reported with the file and the key.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { Speaker } from '../daemon/speaker.ts';
import { config, GLOBAL_TOML, silentLogger } from '../daemon/testing.ts';
import { loadApiSecurity } from './auth.ts';
import { buildApi } from './server.ts';
import { makeCert } from './tls-testing.ts';

function httpsGet(
  url: string,
  opts: https.RequestOptions,
): Promise<{ status: number; body: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, opts, (res) => {
      const authorized = (res.socket as TLSSocket).authorized;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          authorized,
        }),
      );
    });
    req.on('error', reject);
  });
}

describe('API over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-tls-'));
  let files: { cert: string; key: string };
  let app: FastifyInstance;
  let port = 0;
  const TOKEN = 't'.repeat(24);

  before(async () => {
    files = makeCert(dir);
    const tokensFile = join(dir, 'tokens');
    writeFileSync(tokensFile, `read ${TOKEN}\n`);
    const security = loadApiSecurity({ tokensFile, tlsCert: files.cert, tlsKey: files.key });
    const speaker = new Speaker(config(GLOBAL_TOML), {
      logger: silentLogger,
    });
    app = buildApi(speaker, security);
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    await app?.close();
  });

  it('serves HTTPS that verifies against the certificate, with bearer tokens', async () => {
    const ca = readFileSync(files.cert);
    const r = await httpsGet(`https://127.0.0.1:${port}/api/v1/health`, {
      ca,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(r.status, 200);
    assert.equal(r.authorized, true);
    assert.equal(JSON.parse(r.body).status, 'ok');
    const anonymous = await httpsGet(`https://127.0.0.1:${port}/api/v1/health`, { ca });
    assert.equal(anonymous.status, 401);
  });

  it('a client without the CA refuses the self-signed certificate', async () => {
    await assert.rejects(httpsGet(`https://127.0.0.1:${port}/api/v1/health`, {}), /self[- ]signed/i);
  });

  it('plain HTTP to the TLS port gets no API answer', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch((e: Error) => e);
    assert.ok(res instanceof Error || res.status === 400, 'plain HTTP must not be answered by the API');
  });

  it('reports missing and wrong files with the key that names them', () => {
    assert.throws(
      () => loadApiSecurity({ tokensFile: join(dir, 'nope') }),
      /nope: cannot read the tokens file: no such file/,
    );
    assert.throws(
      () => loadApiSecurity({ tlsCert: join(dir, 'missing.pem'), tlsKey: files.key }),
      /api\.tls_cert: .*missing\.pem: no such file/,
    );
    assert.throws(
      () => loadApiSecurity({ tlsCert: files.key, tlsKey: files.key }),
      /api\.tls_cert: .*not a PEM file of the expected kind/,
    );
    assert.throws(() => loadApiSecurity({ tlsCert: files.cert, tlsKey: files.cert }), /api\.tls_key: /);
    // A key that does not belong to the certificate.
    const other = makeCert(mkdtempSync(join(tmpdir(), 'tsbgp-tls-')));
    assert.throws(() => loadApiSecurity({ tlsCert: files.cert, tlsKey: other.key }), /api\.tls_cert\/api\.tls_key: /);
  });
});
