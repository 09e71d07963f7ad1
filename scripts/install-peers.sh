#!/usr/bin/env bash
# Installs the real BGP implementations the interop tests run against, from Debian's packages, when missing.
set -euo pipefail
need=()
command -v bird >/dev/null 2>&1 || need+=(bird2)
[ -x /usr/lib/frr/bgpd ] || need+=(frr)
command -v gobgpd >/dev/null 2>&1 || need+=(gobgpd)
[ -x /usr/sbin/exabgp ] || need+=(exabgp)
command -v bgpctl >/dev/null 2>&1 || need+=(openbgpd)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing peers: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
