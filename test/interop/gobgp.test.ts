// Interop with GoBGP 3: the common scenario of harness/suite.ts, then the other direction of a wrong AS — GoBGP
// refuses tsbgp's OPEN and tsbgp's API reports the NOTIFICATION it received. (GoBGP itself cannot report the NOTIFICATION
// tsbgp sends it: a NOTIFICATION received in OpenConfirm is logged only as an invalid message, without its codes; the
// suite checks tsbgp's Bad Peer AS on the wire instead.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GoBgp } from './harness/gobgp.ts';
import { interopSuite } from './harness/suite.ts';
import { TsbgpProcess, tsbgpConfig } from './harness/tsbgp.ts';
import { requireTestNetns, waitFor } from './harness/util.ts';

interopSuite({
  name: 'gobgp',
  peer: (opts) => new GoBgp(opts),
  octet: 31,
  badPeerAs: null,
  cease: /received notification 6\/2|notification-received code 6\(cease\) subcode 2\b/i,
  noRefresh:
    "GoBGP's CLI cannot make it send a ROUTE-REFRESH (`neighbor softresetin` re-reads GoBGP's own Adj-RIB-In; checked with tshark)",
});

describe('tsbgp <-> gobgp: GoBGP refuses tsbgp with Bad Peer AS', () => {
  const t4 = '198.51.100.33';
  const g4 = '198.51.100.34';
  let tsbgp: TsbgpProcess;
  let gobgp: GoBgp;

  before(async () => {
    requireTestNetns();
    gobgp = new GoBgp({
      asn: 65034,
      router_id: g4,
      address4: g4,
      address6: '2001:db8::34',
      // tsbgp is AS 65033; GoBGP expects another AS.
      neighbors: [{ address: t4, asn: 64998, families: ['ipv4-unicast'] }],
    });
    tsbgp = new TsbgpProcess(
      tsbgpConfig({
        asn: 65033,
        address4: t4,
        address6: '2001:db8::33',
        neighbors: [{ address: g4, asn: 65034, families: ['ipv4-unicast'] }],
      }),
    );
    await Promise.all([gobgp.start(), tsbgp.start()]);
  });

  after(async () => {
    await Promise.all([tsbgp?.stop(), gobgp?.stop()]);
  });

  it("tsbgp's API reports the OPEN Message Error / Bad Peer AS NOTIFICATION GoBGP sent", async () => {
    const n = await tsbgp.waitState(
      g4,
      (x) => /bad peer as/i.test(x.last_error ?? ''),
      'tsbgp to report the Bad Peer AS NOTIFICATION',
      30_000,
    );
    assert.notEqual(n.state, 'established');
    const sent = await waitFor(
      async () => {
        const e = await gobgp.lastError(t4);
        return /sent notification.*as number mismatch/.test(e) && e;
      },
      { what: 'GoBGP to log the NOTIFICATION it sent' },
    );
    assert.match(sent, /expected 64998, received 65033/);
  });
});
