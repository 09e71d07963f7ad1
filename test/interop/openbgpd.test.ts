// Interop with OpenBGPD 7 (bgpd/bgpctl): the common scenario of harness/suite.ts.

import { OpenBgpd } from './harness/openbgpd.ts';
import { interopSuite } from './harness/suite.ts';

interopSuite({
  name: 'openbgpd',
  peer: (opts) => new OpenBgpd(opts),
  octet: 41,
  // OpenBGPD's name for OPEN Message Error / Bad Peer AS (2/2).
  badPeerAs: /received: error in OPEN message, AS unacceptable/i,
  cease: /received: Cease, administratively down/i,
});
