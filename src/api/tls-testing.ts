// Test helper: a throw-away TLS certificate made with the openssl command (Node cannot create X.509 itself).

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A self-signed certificate for `ips` (EC P-256, valid one day), written to `dir`; returns the file paths. */
export function makeCert(dir: string, ips: string[] = ['127.0.0.1']): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=tsbgp test',
      '-addext',
      `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')},DNS:localhost`,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
