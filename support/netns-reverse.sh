#!/usr/bin/env bash
# Reverse lookups with real clients against a mesodns that listens on 127.0.0.1:53 (glibc insists
# on port 53): glibc's getnameinfo through `getent hosts ADDRESS`, and, when JAVA is given,
# Java's InetAddress.getCanonicalHostName (support/ReverseLookup.java, run as a source file),
# which returns the name only when its forward lookup gives the address back. Run it in fresh
# network and mount namespaces, never in the host's (test/integration/reverse.test.ts does):
#
#   unshare --net --mount bash netns-reverse.sh DIR NODE MAIN_JS JAVA|- ADDRESS...
#
# netns-mesodns.sh sets up the namespace (loopback only) and starts mesodns. DIR holds
# mesodns.yaml (dns.listen 127.0.0.1:53), resolv.conf and nsswitch.conf. For each ADDRESS the
# output has a line `== getent ADDRESS exit=CODE` then getent's line, and with JAVA one
# `== java ADDRESS NAME` line (NAME is the address itself when Java found no name it could confirm).
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

# shellcheck source=netns-mesodns.sh
source "$(dirname "$0")/netns-mesodns.sh"

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
