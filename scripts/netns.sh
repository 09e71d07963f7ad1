#!/usr/bin/env bash
# Runs a command inside a throwaway network namespace set up for the interop tests:
#   scripts/netns.sh COMMAND [ARG...]
# The namespace `tsbgp-test-$$` gets its loopback up with 198.51.100.1–60/32 and 2001:db8::1–60/128 (the same digits, so
# 198.51.100.11 pairs with 2001:db8::11), so each test file can use realistic documentation addresses (no 127/8 next hops,
# which GoBGP and FRR treat as martian) without touching the host's network. Everything left running in the namespace is
# killed and the namespace deleted on exit; namespaces left behind by earlier runs whose shell is gone are removed first.
# Needs root (or CAP_SYS_ADMIN) and iproute2's `ip netns`.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

# Stale namespaces from runs that were killed before their trap could run.
for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^tsbgp-test-' || true); do
  pid=${old#tsbgp-test-}
  if ! kill -0 "$pid" 2>/dev/null; then
    for p in $(ip netns pids "$old" 2>/dev/null || true); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$old" 2>/dev/null || true
  fi
done

ns="tsbgp-test-$$"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Daemons the tests failed to stop would otherwise keep the namespace alive.
  for p in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  exit "$rc"
}
ip netns add "$ns"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{
  echo "link set lo up"
  for i in $(seq 1 60); do
    echo "addr add 198.51.100.$i/32 dev lo"
    echo "addr add 2001:db8::$i/128 dev lo nodad"
  done
} | ip -n "$ns" -batch -

# Not exec: the trap must run after the command.
ip netns exec "$ns" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null; exit 130' INT
trap 'kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null; exit 143' TERM
set +e
wait "$child"
rc=$?
set -e
exit "$rc"
