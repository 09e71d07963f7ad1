// Interop with ExaBGP 4.2 (system Python, read through its JSON API): the common scenario of harness/suite.ts, then a
// 4-octet AS against a speaker with 4-octet AS support disabled (`capability { asn4 disable; }`), which exercises
// AS_TRANS and AS4_PATH in both directions (RFC 6793 §4.2).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExaBgp } from './harness/exabgp.ts';
import { interopSuite, waitPeerRoute } from './harness/suite.ts';
import { TsbgpProcess, tsbgpConfig } from './harness/tsbgp.ts';
import { Capture } from './harness/tshark.ts';
import { requireTestNetns } from './harness/util.ts';

interopSuite({
  name: 'exabgp',
  peer: (opts) => new ExaBgp(opts),
  octet: 51,
  badPeerAs: /notification received \(2,2\)/,
  cease: {
    cannot:
      'ExaBGP 4.2.21 fails to decode any Cease/Administrative Shutdown that carries an RFC 8203 shutdown communication ' +
      '(a bytes/str TypeError in notification.py), reports "Broken TCP connection" and answers with NOTIFICATION 1/0',
  },
});

describe('tsbgp with AS 4200000001 <-> exabgp without 4-octet AS support', () => {
  const t4 = '198.51.100.53';
  const x4 = '198.51.100.54';
  const BIG = 4200000001;
  let tsbgp: TsbgpProcess;
  let exa: ExaBgp;
  let capture: Capture;

  before(async () => {
    requireTestNetns();
    capture = await Capture.start('exabgp-as4', [t4, x4]);
    exa = new ExaBgp({
      asn: 65054,
      router_id: x4,
      address4: x4,
      address6: '2001:db8::54',
      // A 2-octet speaker only knows tsbgp as AS_TRANS.
      neighbors: [{ address: t4, asn: 23456, asn4: false, families: ['ipv4-unicast'] }],
      // ExaBGP sends AS_PATH [65054, 23456] and AS4_PATH [65054, 4200000099] for this to a 2-octet session.
      routes: [{ prefix: '192.0.2.0/24', as_path: [65054, 4200000099] }],
    });
    tsbgp = new TsbgpProcess(
      tsbgpConfig({
        asn: BIG,
        address4: t4,
        address6: '2001:db8::53',
        neighbors: [{ address: x4, asn: 65054, families: ['ipv4-unicast'] }],
        routes: [{ prefix: '203.0.113.0/24', med: 10 }],
      }),
    );
    await Promise.all([exa.start(), tsbgp.start()]);
  });

  after(async () => {
    await Promise.all([tsbgp?.stop(), exa?.stop()]);
    await capture?.stop();
  });

  it('establishes with My AS = AS_TRANS in the OPEN', async () => {
    await tsbgp.waitEstablished(x4);
    await exa.waitEstablished(t4);
  });

  it("ExaBGP rebuilds tsbgp's 4-octet AS from AS_PATH [AS_TRANS] + AS4_PATH", async () => {
    const r = await waitPeerRoute(exa, '203.0.113.0/24', t4);
    // ExaBGP merges AS_PATH and AS4_PATH (RFC 6793 §4.2.3) before reporting: with a wrong or missing AS4_PATH it would
    // show 23456.
    assert.deepEqual(r.as_path, [BIG], JSON.stringify(r));
    assert.equal(r.med, 10);
  });

  it("tsbgp rebuilds ExaBGP's path [65054, 4200000099] from AS_PATH [65054, 23456] + AS4_PATH", async () => {
    const r = await tsbgp.waitRoute('192.0.2.0/24', x4);
    assert.deepEqual(r.as_path, [65054, 4200000099], JSON.stringify(r));
  });

  it('on the wire: OPEN with My AS 23456, UPDATEs with a 2-octet AS_PATH and an AS4_PATH; nothing malformed', async () => {
    await Promise.all([tsbgp.stop(), exa.stop()]);
    await capture.stop();
    const s = await capture.summary();
    assert.equal(s.malformed, '', 'tshark -Y _ws.malformed');
    assert.ok((await capture.frames(`ip.src == ${t4} && bgp.open.myas == 23456`)).length > 0, 'OPEN with AS_TRANS');
    const as4 = await capture.frames(
      `ip.src == ${t4} && bgp.update.path_attribute.type_code == 17 && bgp.update.path_attribute.as_path_segment.as2 == 23456`,
    );
    assert.ok(as4.length > 0, 'an UPDATE from tsbgp with AS_TRANS in AS_PATH and an AS4_PATH');
  });
});
