#!/usr/bin/env bash
# mesodns smoke test: asks a running mesodns the questions every deployment must answer, with
# dig, and prints one PASS/FAIL line per check. Exit status 0 when every check passed, 1 when one
# failed, 2 on a usage or setup error. `npm run smoke -- --help` for the options.
#
# Without --server it starts mesodns itself (default config: config/demo.yaml) on free loopback
# ports, with forwarding pointed at a knotd it starts on 127.0.0.1: the smoke test never sends a
# query to the host's resolvers.
set -uo pipefail

usage() {
  cat <<'EOF'
usage: scripts/smoke.sh [options]          (npm run smoke -- [options])

Where the server comes from (default: start one with config/demo.yaml):
  --server HOST:PORT   test a running mesodns ([v6]:PORT for IPv6); nothing is started
  --config FILE        start mesodns with FILE (YAML or Mesos-DNS JSON); its listeners are moved
                       to free 127.0.0.1 ports and forwarding to a local knotd (zone smoke.test.)
  --no-build           do not run `npm run build` before starting mesodns
  --http HOST:PORT     also check GET /health and /ready there (automatic when started here)

What to ask (defaults: names of the demo cluster):
  --domain ZONE        the mesodns domain (default: from the config, else mesos)
  --a NAME             a name with A records               (web.marathon.mesos)
  --aaaa NAME          a name with AAAA records            (api.marathon.mesos)
  --srv NAME           an SRV name with targets in the zone (_web._tcp.marathon.mesos)
  --nxdomain NAME      a name that does not exist          (mesodns-smoke-nxdomain.ZONE)
  --forward NAME[=IP]  a name outside the domain, answered through forwarding, optionally with
                       an address it must contain (started here: www.smoke.test=192.0.2.10;
                       with --server: example.com)
  --no-forward         skip the forwarding check (e.g. forwarding is disabled on purpose)
  --big NAME[/TYPE]    a name whose answer exceeds 512 bytes: with a 512-byte EDNS buffer the
                       reply must be truncated (TC) and complete over TCP (default: the SRV name,
                       which only has to fit the buffer)
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALLER_DIR="${INIT_CWD:-$PWD}" # npm runs scripts in the package root; INIT_CWD is where it was called

server=''
config=''
http=''
build=1
domain=''
a_name='web.marathon.mesos'
aaaa_name='api.marathon.mesos'
srv_name='_web._tcp.marathon.mesos'
nx_name=''
forward=''
forward_given=0
big=''

need_value() {
  if [ "$2" -lt 2 ]; then
    echo "smoke: $1 needs a value" >&2
    exit 2
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --server | --config | --http | --domain | --a | --aaaa | --srv | --nxdomain | --forward | --big)
      need_value "$1" $#
      case "$1" in
        --server) server="$2" ;;
        --config) config="$2" ;;
        --http) http="$2" ;;
        --domain) domain="$2" ;;
        --a) a_name="$2" ;;
        --aaaa) aaaa_name="$2" ;;
        --srv) srv_name="$2" ;;
        --nxdomain) nx_name="$2" ;;
        --forward)
          forward="$2"
          forward_given=1
          ;;
        --big) big="$2" ;;
      esac
      shift 2
      ;;
    --no-forward)
      forward=''
      forward_given=1
      shift
      ;;
    --no-build)
      build=0
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "smoke: unknown argument: $1" >&2
      usage >&2
      exit 2
      ;;
  esac
done

if [ -n "$server" ] && [ -n "$config" ]; then
  echo 'smoke: --server and --config exclude each other' >&2
  exit 2
fi
if ! command -v dig >/dev/null 2>&1; then
  echo 'smoke: dig not found (Debian: apt-get install bind9-dnsutils)' >&2
  exit 2
fi

# "host:port" / "[v6]:port" -> two words.
split_hostport() {
  local hp="$1"
  if [[ "$hp" =~ ^\[([0-9A-Fa-f:.]+)\]:([0-9]+)$ ]] || [[ "$hp" =~ ^([^:]+):([0-9]+)$ ]]; then
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
  else
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Starting mesodns (and knotd as its upstream) when no --server was given.

tmp=''
mesodns_pid=''
knot_pid=''

stop_pid() {
  # SIGTERM, then SIGKILL after 5 s; only processes this script started.
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  stop_pid "$mesodns_pid"
  stop_pid "$knot_pid"
  mesodns_pid=''
  knot_pid=''
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Writes $tmp/mesodns.yaml (the given config, listeners on free loopback ports, forwarding to
# 127.0.0.1:<knot port>, relative paths made absolute) and prints "dnsPort httpPort knotPort domain".
derive_config() {
  local src="$1" base="$2"
  node --input-type=module - "$src" "$base" "$tmp/mesodns.yaml" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const [src, base, out] = process.argv.slice(2);
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const config = parse(readFileSync(src, 'utf8')) ?? {};
if (!isObject(config)) throw new Error(`${src}: not a YAML mapping`);

// A port free for TCP and UDP on 127.0.0.1 right now (mesodns binds both on one port).
async function freePort(taken) {
  for (let i = 0; i < 50; i++) {
    const tcp = createServer();
    const port = await new Promise((ok, ko) => {
      tcp.once('error', ko);
      tcp.listen(0, '127.0.0.1', () => ok(tcp.address().port));
    });
    const udp = createSocket('udp4');
    const isFree = await new Promise((ok) => {
      udp.once('error', () => ok(false));
      udp.bind(port, '127.0.0.1', () => ok(true));
    });
    await new Promise((ok) => (isFree ? udp.close(ok) : ok()));
    await new Promise((ok) => tcp.close(ok));
    if (isFree && !taken.includes(port)) return port;
  }
  throw new Error('no free port on 127.0.0.1');
}
const ports = [];
for (let i = 0; i < 3; i++) ports.push(await freePort(ports));
const [dns, http, knot] = ports;

const section = (key) => (isObject(config[key]) ? config[key] : {});
config.dns = { ...section('dns'), listen: `127.0.0.1:${dns}` };
config.http = { ...section('http'), enabled: true, listen: `127.0.0.1:${http}` };
config.forward = {
  ...section('forward'),
  enabled: true,
  resolvers: [`127.0.0.1:${knot}`],
  zones: {},
};
// Paths in the config are relative to its own directory; this copy lives elsewhere.
const absolute = (obj, key) => {
  if (isObject(obj) && typeof obj[key] === 'string' && obj[key] !== '' && !isAbsolute(obj[key])) {
    obj[key] = resolve(base, obj[key]);
  }
};
const mesos = section('mesos');
absolute(mesos, 'stateFile');
absolute(mesos.auth, 'secretFile');
for (const key of ['ca', 'cert', 'key']) absolute(mesos.tls, key);
writeFileSync(out, stringify(config));
const domain = typeof config.domain === 'string' ? config.domain.toLowerCase() : 'mesos';
console.log(`${dns} ${http} ${knot} ${domain}`);
EOF
}

knotd_bin() {
  if [ -x /usr/sbin/knotd ]; then echo /usr/sbin/knotd; else command -v knotd; fi
}

# knotd on 127.0.0.1:$1 serving smoke.test. (www A 192.0.2.10), in the foreground of a subshell.
start_knot() {
  local port="$1" dir="$tmp/knot"
  mkdir -p "$dir/run" "$dir/db" "$dir/zones"
  cat >"$dir/zones/smoke.test.zone" <<'EOF'
$ORIGIN smoke.test.
$TTL 300
@ IN SOA ns1.smoke.test. hostmaster.smoke.test. 1 3600 600 86400 60
@ IN NS ns1.smoke.test.
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
EOF
  {
    echo 'server:'
    echo "    rundir: \"$dir/run\""
    if [ "$(id -u)" = 0 ]; then echo '    user: root:root'; fi
    echo "    listen: 127.0.0.1@$port"
    echo '    udp-workers: 1'
    echo '    tcp-workers: 1'
    echo '    background-workers: 1'
    echo 'database:'
    echo "    storage: \"$dir/db\""
    echo 'log:'
    echo '  - target: stderr'
    echo '    any: warning'
    echo 'template:'
    echo '  - id: default'
    echo "    storage: \"$dir/zones\""
    echo '    zonefile-sync: -1'
    echo '    journal-content: none'
    echo 'zone:'
    echo '  - domain: smoke.test.'
    echo '    file: smoke.test.zone'
  } >"$dir/knot.conf"
  local knotd
  knotd="$(knotd_bin)" || {
    echo 'smoke: knotd not found (Debian: apt-get install knot)' >&2
    return 2
  }
  "$knotd" -c "$dir/knot.conf" >"$tmp/knot.log" 2>&1 &
  knot_pid=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$knot_pid" 2>/dev/null; then
      knot_pid=''
      grep -qi 'address already in use' "$tmp/knot.log" && return 3
      echo "smoke: knotd exited:" >&2
      cat "$tmp/knot.log" >&2
      return 2
    fi
    if dig @127.0.0.1 -p "$port" +time=1 +tries=1 +norec smoke.test. SOA 2>/dev/null |
      grep -q 'status: NOERROR'; then
      return 0
    fi
    sleep 0.1
  done
  echo 'smoke: knotd did not answer within 10 s' >&2
  return 2
}

# mesodns on $tmp/mesodns.yaml; ready once $domain. SOA answers NOERROR (the first state loaded).
start_mesodns() {
  local port="$1" zone="$2"
  node "$ROOT/dist/main.js" serve --config "$tmp/mesodns.yaml" >"$tmp/mesodns.log" 2>&1 &
  mesodns_pid=$!
  for _ in $(seq 1 150); do
    if ! kill -0 "$mesodns_pid" 2>/dev/null; then
      wait "$mesodns_pid" 2>/dev/null
      mesodns_pid=''
      grep -qi 'EADDRINUSE\|address already in use' "$tmp/mesodns.log" && return 3
      echo 'smoke: mesodns exited before it was ready; its log:' >&2
      cat "$tmp/mesodns.log" >&2
      return 2
    fi
    if dig @127.0.0.1 -p "$port" +time=1 +tries=1 "$zone." SOA 2>/dev/null |
      grep -q 'status: NOERROR'; then
      return 0
    fi
    sleep 0.1
  done
  echo 'smoke: mesodns did not load a state within 15 s; its log:' >&2
  cat "$tmp/mesodns.log" >&2
  return 2
}

started_here=0
dns_host=''
dns_port=''
http_host=''
http_port=''

if [ -z "$server" ]; then
  started_here=1
  config="${config:-$ROOT/config/demo.yaml}"
  case "$config" in
    /*) ;;
    *) config="$CALLER_DIR/$config" ;;
  esac
  if [ ! -r "$config" ]; then
    echo "smoke: cannot read $config" >&2
    exit 2
  fi
  cd "$ROOT" || exit 2
  if [ "$build" = 1 ]; then
    npm run build --silent || {
      echo 'smoke: npm run build failed' >&2
      exit 2
    }
  fi
  if [ ! -f "$ROOT/dist/main.js" ]; then
    echo 'smoke: dist/main.js missing: run npm run build' >&2
    exit 2
  fi
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/mesodns-smoke.XXXXXX")"
  source_config="$config"
  if [[ "$config" == *.json ]]; then
    # A Mesos-DNS config.json: the YAML equivalent, then the same overrides.
    node "$ROOT/dist/main.js" convert-config "$config" >"$tmp/source.yaml" || exit 2
    source_config="$tmp/source.yaml"
  fi
  started=0
  for _ in 1 2 3; do
    read -r dns_port http_port knot_port config_domain < <(derive_config "$source_config" "$(dirname "$config")")
    if [ -z "${config_domain:-}" ]; then
      echo "smoke: could not derive a config from $config" >&2
      exit 2
    fi
    start_knot "$knot_port"
    rc=$?
    if [ "$rc" = 3 ]; then continue; fi
    if [ "$rc" != 0 ]; then exit 2; fi
    start_mesodns "$dns_port" "$config_domain"
    rc=$?
    if [ "$rc" = 0 ]; then
      started=1
      break
    fi
    stop_pid "$knot_pid"
    knot_pid=''
    if [ "$rc" != 3 ]; then exit 2; fi
  done
  if [ "$started" != 1 ]; then
    echo 'smoke: ports kept being taken (3 attempts)' >&2
    exit 2
  fi
  dns_host=127.0.0.1
  http_host=127.0.0.1
  domain="${domain:-$config_domain}"
  if [ "$forward_given" = 0 ]; then forward='www.smoke.test=192.0.2.10'; fi
  echo "smoke: mesodns started with ${config#"$ROOT"/} on 127.0.0.1:$dns_port (HTTP :$http_port)," \
    "forwarding to knotd on 127.0.0.1:$knot_port"
else
  hp="$(split_hostport "$server")" || {
    echo "smoke: --server wants HOST:PORT or [v6]:PORT, not $server" >&2
    exit 2
  }
  read -r dns_host dns_port <<<"$hp"
  if [ -n "$http" ]; then
    hp="$(split_hostport "$http")" || {
      echo "smoke: --http wants HOST:PORT or [v6]:PORT, not $http" >&2
      exit 2
    }
    read -r http_host http_port <<<"$hp"
  fi
  domain="${domain:-mesos}"
  if [ "$forward_given" = 0 ]; then forward='example.com'; fi
  echo "smoke: testing mesodns at $server"
fi
domain="${domain%.}"
nx_name="${nx_name:-mesodns-smoke-nxdomain.$domain}"

# ---------------------------------------------------------------------------------------------
# dig and its output.

q() {
  dig @"$dns_host" -p "$dns_port" +time=2 +tries=2 "$@" 2>&1
}
status_of() { sed -n 's/.*, status: \([A-Z]*\),.*/\1/p' <<<"$1" | head -n 1; }
flags_of() { sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$1" | head -n 1; }
has_flag() { [[ " $(flags_of "$1") " == *" $2 "* ]]; }
# Records of one section (ANSWER, AUTHORITY, ADDITIONAL), optionally of one type.
records() {
  awk -v s=";; $2 SECTION:" -v t="${3:-}" '
    $0 == s { on = 1; next }
    on && NF == 0 { on = 0 }
    on && (t == "" || $4 == t) { print }' <<<"$1"
}
count() { records "$@" | grep -c . ; }
rdata() { records "$@" | awk '{ $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' | paste -sd ' ' -; }
msg_size() { sed -n 's/^;; MSG SIZE *rcvd: \([0-9]*\).*/\1/p' <<<"$1" | tail -n 1; }
opt_udp() { sed -n 's/^; EDNS: version: [0-9]*, flags:[^;]*; udp: \([0-9]*\).*/\1/p' <<<"$1" | head -n 1; }
opt_version() { sed -n 's/^; EDNS: version: \([0-9]*\),.*/\1/p' <<<"$1" | head -n 1; }
lower() { tr '[:upper:]' '[:lower:]' <<<"$1"; }
# What went wrong, briefly: the status and flags, or dig's complaint when there was no reply.
describe() {
  local st
  st="$(status_of "$1")"
  if [ -z "$st" ]; then
    grep -m 1 -E '^;; (communications error|connection timed out|no servers)|timed out|refused' <<<"$1" ||
      echo 'no reply'
  else
    echo "status $st, flags: $(flags_of "$1")"
  fi
}

passed=0
failed=0
skipped=0
pass() {
  printf 'PASS  %-9s %s\n' "$1" "$2"
  passed=$((passed + 1))
}
fail() {
  printf 'FAIL  %-9s %s\n' "$1" "$2"
  failed=$((failed + 1))
}
skip() {
  printf 'SKIP  %-9s %s\n' "$1" "$2"
  skipped=$((skipped + 1))
}

# An authoritative NOERROR answer with at least one record of the type.
check_address() {
  local label="$1" name="$2" type="$3" out n
  out="$(q "$name" "$type")"
  n="$(count "$out" ANSWER "$type")"
  if [ "$(status_of "$out")" = NOERROR ] && has_flag "$out" aa && [ "$n" -gt 0 ]; then
    pass "$label" "$name: $n record(s): $(rdata "$out" ANSWER "$type")"
  else
    fail "$label" "$name $type: want NOERROR, aa and $type records; got $(describe "$out"), $n $type record(s)"
  fi
}

# ---------------------------------------------------------------------------------------------
# The checks.

check_address A "$a_name" A
check_address AAAA "$aaaa_name" AAAA

# SRV: every target has its address in the additional section.
out="$(q "$srv_name" SRV)"
n="$(count "$out" ANSWER SRV)"
if [ "$(status_of "$out")" = NOERROR ] && has_flag "$out" aa && [ "$n" -gt 0 ]; then
  additional="$(records "$out" ADDITIONAL | awk '$4 == "A" || $4 == "AAAA" { print tolower($1) }')"
  missing=''
  for target in $(records "$out" ANSWER SRV | awk '{ print tolower($8) }' | sort -u); do
    grep -qxF "$target" <<<"$additional" || missing="$missing $target"
  done
  if [ -z "$missing" ]; then
    pass SRV "$srv_name: $n record(s), every target's address in the additional section"
  else
    fail SRV "$srv_name: no address in the additional section for:$missing"
  fi
else
  fail SRV "$srv_name: want NOERROR, aa and SRV records; got $(describe "$out"), $n SRV record(s)"
fi

# NXDOMAIN with the zone's SOA in the authority section (negative caching, RFC 2308).
out="$(q "$nx_name" A)"
soa_owner="$(records "$out" AUTHORITY SOA | awk '{ print tolower($1) }' | head -n 1)"
if [ "$(status_of "$out")" = NXDOMAIN ] && has_flag "$out" aa && [ "$soa_owner" = "$(lower "$domain.")" ]; then
  pass NXDOMAIN "$nx_name: NXDOMAIN, SOA $soa_owner in the authority section"
else
  fail NXDOMAIN "$nx_name: want NXDOMAIN, aa and the SOA of $domain.; got $(describe "$out"), SOA owner '${soa_owner}'"
fi

# A name outside the domain, answered by the upstream: not authoritative.
if [ -z "$forward" ]; then
  skip forward 'no --forward name'
else
  fname="${forward%%=*}"
  fip=''
  if [[ "$forward" == *=* ]]; then fip="${forward#*=}"; fi
  out="$(q "$fname" A)"
  n="$(count "$out" ANSWER)"
  addrs="$(rdata "$out" ANSWER A)"
  if [ "$(status_of "$out")" != NOERROR ] || [ "$n" -eq 0 ]; then
    fail forward "$fname: want NOERROR with an answer; got $(describe "$out"), $n record(s)"
  elif has_flag "$out" aa; then
    fail forward "$fname: the answer has AA set: not forwarded"
  elif [ -n "$fip" ] && [[ " $addrs " != *" $fip "* ]]; then
    fail forward "$fname: want $fip among the addresses; got $addrs"
  else
    pass forward "$fname: $n record(s) from upstream (no AA): $addrs"
  fi
fi

# TCP (RFC 7766).
out="$(q +tcp "$a_name" A)"
n="$(count "$out" ANSWER A)"
if [ "$(status_of "$out")" = NOERROR ] && has_flag "$out" aa && [ "$n" -gt 0 ]; then
  pass TCP "$a_name over TCP: $n record(s)"
else
  fail TCP "$a_name over TCP: want NOERROR, aa and A records; got $(describe "$out")"
fi

# EDNS0 (RFC 6891): an OPT comes back when one was sent, and none when none was sent.
out="$(q +edns=0 +bufsize=1232 "$srv_name" SRV)"
plain="$(q +noedns "$srv_name" SRV)"
udp="$(opt_udp "$out")"
version="$(opt_version "$out")"
if [ -z "$udp" ] || [ "$version" != 0 ]; then
  fail EDNS0 "$srv_name: no OPT (EDNS version 0) in the reply to an EDNS query; got $(describe "$out")"
elif [ -n "$(opt_udp "$plain")" ]; then
  fail EDNS0 "$srv_name: an OPT in the reply to a query without EDNS"
elif [ "$(status_of "$plain")" != NOERROR ]; then
  fail EDNS0 "$srv_name without EDNS: got $(describe "$plain")"
else
  pass EDNS0 "$srv_name: OPT echoed (version 0, server buffer $udp bytes), none without EDNS"
fi

# The client's buffer size is honoured: a 512-byte buffer gets at most 512 bytes, the rest is
# left out and TC set when answers had to go (--big), and TCP then gets everything.
if [ -n "$big" ]; then
  bname="${big%%/*}"
  btype='A'
  if [[ "$big" == */* ]]; then btype="${big#*/}"; fi
else
  bname="$srv_name"
  btype='SRV'
fi
small="$(q +bufsize=512 +ignore "$bname" "$btype")"
size="$(msg_size "$small")"
if [ -z "$size" ] || [ "$(status_of "$small")" != NOERROR ]; then
  fail bufsize "$bname $btype with a 512-byte buffer: got $(describe "$small")"
elif [ "$size" -gt 512 ]; then
  fail bufsize "$bname $btype: a $size-byte reply to a 512-byte buffer"
elif has_flag "$small" tc || [ -n "$big" ]; then
  full="$(q +tcp "$bname" "$btype")"
  nsmall="$(count "$small" ANSWER)"
  nfull="$(count "$full" ANSWER)"
  if [ -n "$big" ] && ! has_flag "$small" tc; then
    fail bufsize "$bname $btype: $size bytes, $nsmall answer(s), no TC: is the answer really larger than 512 bytes?"
  elif [ "$(status_of "$full")" != NOERROR ] || [ "$nfull" -le "$nsmall" ]; then
    fail bufsize "$bname $btype: truncated to $nsmall answer(s), but TCP gave $(describe "$full") with $nfull"
  else
    pass bufsize "$bname $btype: 512-byte buffer -> $size bytes with TC ($nsmall of $nfull answers); all $nfull over TCP"
  fi
else
  pass bufsize "$bname $btype: 512-byte buffer -> complete $size-byte reply, no TC needed"
fi

# HTTP probes, when known.
if [ -n "$http_port" ]; then
  hurl="http://$http_host:$http_port"
  if [[ "$http_host" == *:* ]]; then hurl="http://[$http_host]:$http_port"; fi
  if result="$(node -e '
    const base = process.argv[1];
    Promise.all(["/health", "/ready"].map((p) =>
      fetch(base + p, { signal: AbortSignal.timeout(5000) }).then((r) => p + " " + r.status, (e) => p + " " + e.message)))
      .then((rs) => { console.log(rs.join(", ")); process.exit(rs.every((r) => r.endsWith(" 200")) ? 0 : 1); });
  ' "$hurl" 2>&1)"; then
    pass HTTP "$hurl: $result"
  else
    fail HTTP "$hurl: want 200 from /health and /ready; got $result"
  fi
fi

# A mesodns started here must stop cleanly on SIGTERM.
if [ "$started_here" = 1 ]; then
  kill -TERM "$mesodns_pid" 2>/dev/null
  code=''
  for _ in $(seq 1 100); do
    if ! kill -0 "$mesodns_pid" 2>/dev/null; then
      wait "$mesodns_pid"
      code=$?
      break
    fi
    sleep 0.1
  done
  if [ "$code" = 0 ]; then
    pass shutdown 'SIGTERM: exit status 0'
    mesodns_pid=''
  else
    fail shutdown "SIGTERM: want exit status 0 within 10 s; got '${code:-still running}'"
  fi
  if [ "$failed" -gt 0 ]; then
    echo '--- mesodns log ---'
    cat "$tmp/mesodns.log"
  fi
fi

echo "smoke: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
