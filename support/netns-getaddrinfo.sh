#!/usr/bin/env bash
# Resolves names with glibc's getaddrinfo (getent ahostsv4 / ahostsv6) against a mesodns that
# listens on 127.0.0.1:53, which glibc's stub resolver insists on. Run it in fresh network and
# mount namespaces, never in the host's (test/integration/clients.test.ts does):
#
#   unshare --net --mount bash netns-getaddrinfo.sh DIR NODE MAIN_JS NAME...
#
# netns-mesodns.sh sets up the namespace (loopback only) and starts mesodns. DIR holds
# mesodns.yaml (dns.listen 127.0.0.1:53), resolv.conf and nsswitch.conf. For each NAME the
# output has a line `== ahostsv4 NAME exit=CODE` (then getent's lines) and the same for
# ahostsv6.
set -euo pipefail
if [ "$#" -lt 4 ]; then
  echo "usage: $0 DIR NODE MAIN_JS NAME..." >&2
  exit 2
fi
dir=$1
node=$2
main=$3
shift 3

# shellcheck source=netns-mesodns.sh
source "$(dirname "$0")/netns-mesodns.sh"

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
