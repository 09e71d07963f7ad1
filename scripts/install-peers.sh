#!/usr/bin/env bash
# Installs the real BGP implementations the interop tests run against, from Debian's packages, when missing:
# BIRD 2, FRR (bgpd + vtysh), GoBGP, OpenBGPD, ExaBGP (system Python), tshark, and iproute2 for the namespace.
set -euo pipefail
need=()
command -v bird >/dev/null 2>&1 && command -v birdc >/dev/null 2>&1 || need+=(bird2)
[ -x /usr/lib/frr/bgpd ] && command -v vtysh >/dev/null 2>&1 || need+=(frr)
command -v gobgpd >/dev/null 2>&1 && command -v gobgp >/dev/null 2>&1 || need+=(gobgpd)
[ -x /usr/sbin/exabgp ] || need+=(exabgp)
command -v bgpctl >/dev/null 2>&1 || need+=(openbgpd)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing peers: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the answer does not matter here (the tests capture as root).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian may start some of them as services: those listen in the host's network namespace, the tests in their own.
