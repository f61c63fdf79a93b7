#!/usr/bin/env bash
# Reverse lookups with real clients against a mesodns that listens on 127.0.0.1:53 (glibc insists
# on port 53): glibc's getnameinfo through `getent hosts ADDRESS`, and, when JAVA is given,
# Java's InetAddress.getCanonicalHostName (support/ReverseLookup.java, run as a source file),
# which returns the name only when its forward lookup gives the address back. Run it in fresh
# network and mount namespaces, never in the host's (test/integration/reverse.test.ts does):
#
#   unshare --net --mount bash netns-reverse.sh DIR NODE MAIN_JS JAVA|- ADDRESS...
#
# As netns-getaddrinfo.sh: the namespace has only a loopback interface; the bind mounts of
# resolv.conf and nsswitch.conf are private to it. DIR holds mesodns.yaml (dns.listen
# 127.0.0.1:53), resolv.conf and nsswitch.conf. For each ADDRESS the output has a line
# `== getent ADDRESS exit=CODE` then getent's line, and with JAVA one `== java ADDRESS NAME`
# line (NAME is the address itself when Java found no name it could confirm).
set -euo pipefail
if [ "$#" -lt 5 ]; then
  echo "usage: $0 DIR NODE MAIN_JS JAVA|- ADDRESS..." >&2
  exit 2
fi
dir=$1
node=$2
main=$3
java=$4
shift 4

ip link set lo up
# As netns-getaddrinfo.sh: an address of each family besides loopback, for the forward lookups
# that confirm a name (Java's) should they ask with AI_ADDRCONFIG.
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

for address in "$@"; do
  code=0
  out=$(getent hosts "$address") || code=$?
  echo "== getent $address exit=$code"
  if [ -n "$out" ]; then
    echo "$out"
  fi
done
if [ "$java" != - ]; then
  "$java" "$(dirname "$0")/ReverseLookup.java" "$@"
fi
