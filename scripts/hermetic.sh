#!/usr/bin/env bash
# Runs a command in a network namespace that has only loopback, and fails when the command sent
# a single packet to an address outside 127.0.0.0/8 and ::1.
#
#   scripts/hermetic.sh npm test        (npm run test:hermetic)
#
# How a leak is made visible instead of failing fast (no route) or hiding:
# - a default route (IPv4 and IPv6) through lo, so that a packet to any other address is sent
#   and seen by the capture (the kernel then drops it, or answers it with an ICMP error, which
#   is seen too);
# - the host's resolvers (from /etc/resolv.conf) are added to lo and a silent sink listens on
#   their port 53 (UDP and TCP): a lookup that leaks times out as it would against a dead
#   resolver, and the sink logs the question it was asked;
# - tcpdump on lo records every packet that is not loopback to loopback.
# The command's exit status is kept; a leak makes the script exit 3 after listing the packets.
# Needs root (or user namespaces), iproute2 and tcpdump.
set -uo pipefail

if [ $# -eq 0 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
  echo "usage: scripts/hermetic.sh COMMAND [ARG...]   (run COMMAND with loopback only, fail on any leak)" >&2
  [ $# -eq 0 ] && exit 2
  exit 0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "${MESODNS_HERMETIC_INSIDE:-}" != "1" ]; then
  for tool in unshare ip tcpdump; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "hermetic: $tool is missing (Debian: apt-get install util-linux iproute2 tcpdump)" >&2
      exit 2
    fi
  done
  MESODNS_HERMETIC_INSIDE=1 exec unshare --net -- "$0" "$@"
fi

work="$(mktemp -d)"
capture="$work/leaks.txt"
sinklog="$work/sink.log"

ip link set lo up
ip route add default dev lo 2>/dev/null || true
# IPv6 needs a source address of global scope before it sends anything off ::1.
ip -6 addr add fd00:6d65:736f::1/128 dev lo nodad 2>/dev/null || true
ip -6 route add default dev lo 2>/dev/null || true

# The resolvers the host would use: the same addresses, answered here by a sink that never replies.
mapfile -t resolvers < <(awk '$1 == "nameserver" { print $2 }' /etc/resolv.conf 2>/dev/null |
  grep -vE '^(127\.|::1$)' || true)
for r in "${resolvers[@]}"; do
  case "$r" in
    *:*) ip -6 addr add "$r/128" dev lo nodad 2>/dev/null || true ;;
    *) ip addr add "$r/32" dev lo 2>/dev/null || true ;;
  esac
done

tcpdump -i lo -nn -l -q \
  'not (src net 127.0.0.0/8 and dst net 127.0.0.0/8) and not (ip6 and src host ::1 and dst host ::1)' \
  >"$capture" 2>"$work/tcpdump.err" &
dump=$!
sink=''
if [ ${#resolvers[@]} -gt 0 ]; then
  node --import tsx "$ROOT/support/leak-sink.ts" "${resolvers[@]}" >"$sinklog" 2>"$work/sink.err" &
  sink=$!
fi
# Wait until both listen: tcpdump says "listening on lo", the sink "sink ready".
for _ in $(seq 1 200); do
  if grep -q 'listening on' "$work/tcpdump.err" 2>/dev/null &&
    { [ -z "$sink" ] || grep -q 'sink ready' "$work/sink.err" 2>/dev/null; }; then
    break
  fi
  sleep 0.05
done

"$@"
status=$?

sleep 0.2 # the last packets reach the capture
kill "$dump" 2>/dev/null
[ -n "$sink" ] && kill "$sink" 2>/dev/null
wait 2>/dev/null

leaks=$(grep -c . "$capture" || true)
if [ "$leaks" -gt 0 ]; then
  echo "hermetic: $leaks packet(s) left loopback:" >&2
  head -n 20 "$capture" >&2
  if [ -s "$sinklog" ]; then
    echo "hermetic: questions sent to the host's resolvers (first 20):" >&2
    sort "$sinklog" | uniq -c | sort -rn | head -n 20 >&2
  fi
  rm -rf "$work"
  exit 3
fi
echo "hermetic: no packet left loopback" >&2
rm -rf "$work"
exit "$status"
