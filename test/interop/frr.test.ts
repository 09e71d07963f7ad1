// Interop with FRR 8 (bgpd without zebra, driven through vtysh): the common scenario of harness/suite.ts.

import { Frr } from './harness/frr.ts';
import { interopSuite } from './harness/suite.ts';

interopSuite({
  name: 'frr',
  peer: (opts) => new Frr(opts),
  octet: 21,
  badPeerAs: /Bad Peer AS; BGP Notification received/i,
  cease: /Cease\/Administrative Shutdown; BGP Notification received/i,
});
