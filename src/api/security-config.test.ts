// The [api] security keys of the configuration: the non-loopback rule, TLS pairs, paths relative to the file.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../daemon/config.ts';

const base = (api: string) => `[global]\nasn = 65000\nrouter_id = "192.0.2.1"\n\n[api]\n${api}\n`;

describe('[api] security configuration', () => {
  it('refuses a non-loopback listen address without tokens_file', () => {
    for (const listen of ['0.0.0.0:8179', '192.0.2.1:8179', '[::]:8179', '[2001:db8::1]:8179']) {
      const r = parseConfig(base(`listen = "${listen}"`), '/etc/tsbgp/tsbgp.toml');
      assert.ok(!r.ok, listen);
      assert.deepEqual(r.errors, [
        `api.listen: ${listen} is not a loopback address; set api.tokens_file (bearer tokens) to serve the API beyond this host`,
      ]);
    }
  });

  it('accepts loopback without tokens, and any address with tokens_file (resolved next to the config file)', () => {
    for (const listen of ['127.0.0.1:8179', '127.0.70.1:0', '[::1]:8179']) {
      assert.ok(parseConfig(base(`listen = "${listen}"`), 't.toml').ok, listen);
    }
    const r = parseConfig(base('listen = "0.0.0.0:8179"\ntokens_file = "tokens"'), '/etc/tsbgp/tsbgp.toml');
    assert.ok(r.ok);
    assert.equal(r.config.api.tokensFile, '/etc/tsbgp/tokens');
    const abs = parseConfig(base('tokens_file = "/run/tokens"'), '/etc/tsbgp/tsbgp.toml');
    assert.ok(abs.ok);
    assert.equal(abs.config.api.tokensFile, '/run/tokens');
  });

  it('tls_cert and tls_key come together', () => {
    const one = parseConfig(base('tls_cert = "cert.pem"'), 't.toml');
    assert.ok(!one.ok);
    assert.deepEqual(one.errors, ['api.tls_key: required with api.tls_cert']);
    const other = parseConfig(base('tls_key = "key.pem"'), 't.toml');
    assert.ok(!other.ok);
    assert.deepEqual(other.errors, ['api.tls_cert: required with api.tls_key']);
    const both = parseConfig(base('tls_cert = "c.pem"\ntls_key = "k.pem"'), '/srv/t.toml');
    assert.ok(both.ok);
    assert.deepEqual([both.config.api.tlsCert, both.config.api.tlsKey], ['/srv/c.pem', '/srv/k.pem']);
  });

  it('file keys must be non-empty strings; unknown [api] keys are still errors', () => {
    const r = parseConfig(base('tokens_file = ""\ntoken_file = "x"'), 't.toml');
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [
      'api.token_file: unknown key (did you mean "tokens_file"?)',
      'api.tokens_file: expected a file path',
    ]);
  });
});
