# Sourced by the netns-*.sh client scripts, inside fresh network and mount namespaces (`unshare
# --net --mount`): brings up loopback, gives it an address of each family besides loopback
# (getaddrinfo's AI_ADDRCONFIG, which `getent ahosts` and Java's forward lookups set, returns a
# family only when the host has a non-loopback address of it; documentation and ULA ranges,
# local here), bind-mounts DIR's resolv.conf and nsswitch.conf over the namespace's own (private
# to the new mount namespace), then starts mesodns from DIR/mesodns.yaml (dns.listen
# 127.0.0.1:53, which glibc's stub resolver insists on) and waits until the apex SOA answers.
# The namespace has only a loopback interface, so port 53 there is nobody else's and nothing
# leaves it. Expects `dir`, `node` and `main` set; stops mesodns when the script exits.

ip link set lo up
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
