#!/usr/bin/python3
# Prints what Debian's ExaBGP 4.2 sends to helper programs for a fixed set of cases, as a JSON object
# {case: {"text": ..., "json": ...}}. encoder.test.ts builds the same cases and compares. Time, host and pids are
# pinned so the output is reproducible.
import json, os, socket, struct, time

time.time = lambda: 1700000000.5
os.getpid = lambda: 4242
os.getppid = lambda: 4241
socket.gethostname = lambda: 'tsbgp-test'

from exabgp.configuration.setup import environment
environment.setup('')
from exabgp.reactor.api.response import Response
from exabgp.bgp.message import IN
from exabgp.bgp.message.update import Update
from exabgp.bgp.message.update.eor import EOR
from exabgp.bgp.message.update.nlri.inet import INET
from exabgp.bgp.message.update.nlri.cidr import CIDR
from exabgp.bgp.message.update.nlri.qualifier import PathInfo
from exabgp.bgp.message.update.attribute import Attributes
from exabgp.bgp.message.update.attribute.origin import Origin
from exabgp.bgp.message.update.attribute.aspath import ASPath
from exabgp.bgp.message.update.attribute.med import MED
from exabgp.bgp.message.update.attribute.localpref import LocalPreference
from exabgp.bgp.message.update.attribute.atomicaggregate import AtomicAggregate
from exabgp.bgp.message.update.attribute.aggregator import Aggregator
from exabgp.bgp.message.update.attribute.originatorid import OriginatorID
from exabgp.bgp.message.update.attribute.clusterlist import ClusterList, ClusterID
from exabgp.bgp.message.update.attribute.community.initial.communities import Communities
from exabgp.bgp.message.update.attribute.community.initial.community import Community
from exabgp.bgp.message.update.attribute.community.large.communities import LargeCommunities
from exabgp.bgp.message.update.attribute.community.large.community import LargeCommunity
from exabgp.bgp.message.update.attribute.community.extended.communities import ExtendedCommunities
from exabgp.bgp.message.update.attribute.community.extended.community import ExtendedCommunity
from exabgp.bgp.message.notification import Notification
from exabgp.bgp.message.open.asn import ASN
from exabgp.bgp.message.open.routerid import RouterID
from exabgp.protocol.family import AFI, SAFI
from exabgp.protocol.ip import IP


class Neighbor:
    peer_address = '192.0.2.2'
    local_address = '192.0.2.1'
    local_as = 65000
    peer_as = 65001
    uid = '1'


def inet(prefix, length, nh, action, afi=AFI.ipv4, path=None):
    x = INET(afi, SAFI.unicast, action)
    x.cidr = CIDR(IP.pton(prefix), length)
    if nh:
        x.nexthop = IP.create(nh)
    if path is not None:
        x.path_info = PathInfo(integer=path)
    return x


def comm(a, b):
    return Community.cached(struct.pack('!HH', a, b))


full = Attributes()
full.add(Origin(Origin.IGP))
full.add(ASPath([65001, 65002], []))
full.add(MED(200))
full.add(LocalPreference(100))
full.add(Communities([comm(65000, 1), comm(65535, 65281)]))
full.add(LargeCommunities([LargeCommunity(struct.pack('!LLL', 1, 2, 3))]))

rich = Attributes()
rich.add(Origin(Origin.EGP))
rich.add(ASPath([4200000000, 2], [3, 4]))
rich.add(MED(0))
rich.add(AtomicAggregate())
rich.add(Aggregator(ASN(65000), RouterID('192.0.2.1')))
rich.add(Communities([comm(65000, 7)]))
rich.add(OriginatorID('10.0.0.1'))
rich.add(ClusterList([ClusterID('10.0.0.2'), ClusterID('10.0.0.3')]))
rich.add(ExtendedCommunities([
    ExtendedCommunity.unpack(bytes([0, 2, 0xfd, 0xe8, 0, 0, 0, 1])),
    ExtendedCommunity.unpack(bytes([1, 2, 192, 0, 2, 1, 0, 5])),
    ExtendedCommunity.unpack(bytes([2, 2, 0xfa, 0x56, 0xea, 0, 0, 7])),
]))
rich.add(LargeCommunities([LargeCommunity(struct.pack('!LLL', 1, 2, 3)), LargeCommunity(struct.pack('!LLL', 4, 5, 6))]))

empty_path = Attributes()
empty_path.add(Origin(Origin.INCOMPLETE))
empty_path.add(ASPath([], []))

cases = {
    'up': lambda e: e.up(Neighbor()),
    'connected': lambda e: e.connected(Neighbor()),
    'down': lambda e: e.down(Neighbor(), 'peer reset [hold timer] "x"'),
    'shutdown': lambda e: e.shutdown(),
    'announce4': lambda e: e.update(Neighbor(), 'receive', Update(
        [inet('10.0.0.0', 24, '192.0.2.9', IN.ANNOUNCED), inet('10.0.1.0', 24, '192.0.2.9', IN.ANNOUNCED)], full), None, b'', b''),
    'withdraw4': lambda e: e.update(Neighbor(), 'receive', Update(
        [inet('10.0.2.0', 24, None, IN.WITHDRAWN), inet('10.0.3.0', 24, None, IN.WITHDRAWN)], Attributes()), None, b'', b''),
    'announce6': lambda e: e.update(Neighbor(), 'receive', Update(
        [inet('2001:db8::', 32, '2001:db8::1', IN.ANNOUNCED, AFI.ipv6)], full), None, b'', b''),
    'rich': lambda e: e.update(Neighbor(), 'receive', Update(
        [inet('10.0.0.0', 8, '192.0.2.9', IN.ANNOUNCED), inet('10.0.2.0', 24, None, IN.WITHDRAWN)], rich), None, b'', b''),
    'empty-path': lambda e: e.update(Neighbor(), 'send', Update(
        [inet('10.9.0.0', 16, '192.0.2.9', IN.ANNOUNCED)], empty_path), None, b'', b''),
    'path-info': lambda e: e.update(Neighbor(), 'receive', Update(
        [inet('10.0.0.0', 24, '192.0.2.9', IN.ANNOUNCED, path=5)], empty_path), None, b'', b''),
    'eor4': lambda e: e.update(Neighbor(), 'receive', EOR(AFI.ipv4, SAFI.unicast), None, b'', b''),
    'eor6': lambda e: e.update(Neighbor(), 'receive', EOR(AFI.ipv6, SAFI.unicast), None, b'', b''),
    'notification': lambda e: e.notification(Neighbor(), 'receive', Notification(3, 1, b'\x01\x02'), None, b'', b''),
}

out = {}
text = Response.Text('4.0.1')
for name, fn in cases.items():
    out[name] = {'text': fn(text)}
# One JSON encoder for all cases, in order, as one ExaBGP process would count them.
js = Response.JSON('4.0.1')
for name, fn in cases.items():
    out[name]['json'] = fn(js)
print(json.dumps(out))
