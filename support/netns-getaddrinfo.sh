#!/usr/bin/env bash
# Resolves names with glibc's getaddrinfo (getent ahostsv4 / ahostsv6) against a mesodns that
# listens on 127.0.0.1:53, which glibc's stub resolver insists on. Run it in fresh network and
# mount namespaces, never in the host's (test/integration/clients.test.ts does):
#
#   unshare --net --mount bash netns-getaddrinfo.sh DIR NODE MAIN_JS NAME...
#
# The new network namespace has only a loopback interface, so port 53 there is nobody else's and
# nothing leaves it; the bind mounts of resolv.conf and nsswitch.conf are private to the new
# mount namespace. DIR holds mesodns.yaml (dns.listen 127.0.0.1:53), resolv.conf and
# nsswitch.conf. For each NAME the output has a line `== ahostsv4 NAME exit=CODE` (then
# getent's lines) and the same for ahostsv6.
set -euo pipefail
if [ "$#" -lt 4 ]; then
  echo "usage: $0 DIR NODE MAIN_JS NAME..." >&2
  exit 2
fi
dir=$1
node=$2
main=$3
shift 3

ip link set lo up
# getaddrinfo's AI_ADDRCONFIG (getent ahosts sets it) returns a family only when the host has a
# non-loopback address of it: give lo one of each (documentation and ULA ranges, local here).
ip addr add 192.0.2.53/32 dev lo
ip -6 addr add fd00:6d65:736f::53/128 dev lo nodad
mount --bind "$dir/resolv.conf" /etc/resolv.conf
mount --bind "$dir/nsswitch.conf" /etc/nsswitch.conf

"$node" "$main" serve --config "$dir/mesodns.yaml" >"$dir/mesodns.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT

# Ready when the apex SOA answers NOERROR: the state is loaded. Up to 30 s (300 polls).
ready=0
for _ in $(seq 1 300); do
  if dig +tries=1 +time=1 @127.0.0.1 -p 53 mesos. SOA 2>/dev/null | grep -q 'status: NOERROR'; then
    ready=1
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "mesodns did not answer on 127.0.0.1:53 in the namespace; its log:" >&2
  cat "$dir/mesodns.log" >&2
  exit 3
fi

for name in "$@"; do
  for db in ahostsv4 ahostsv6; do
    code=0
    out=$(getent "$db" "$name") || code=$?
    echo "== $db $name exit=$code"
    if [ -n "$out" ]; then
      echo "$out"
    fi
  done
done
