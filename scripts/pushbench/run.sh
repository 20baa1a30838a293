#!/usr/bin/env bash
# Side-by-side benchmark of file pushes: forcesync push, jsforce
# (bulk2.loadAndWaitForResults) and the sf CLI (sf data upsert bulk) load the
# same generated CSV of Leads (upsert on Forcesync_Key__c) into a fresh
# emulator each time. Two cases per size: an all-new file, and a re-push of
# the file with 10% of its rows changed (after an untimed first load by the
# same contender). Contenders are alternated, each run three times; the
# medians of wall time, API calls (the emulator's statistics, OAuth
# included), peak RSS and CPU time (user + system, of the client process
# only; the emulator's is not counted) are printed with the wall-time ratio
# to forcesync. On a shared machine CPU time is the steadier figure.
#
# Not run in CI. Needs npm once (it installs the pinned jsforce, sf CLI and
# Node 22 of scripts/clients-check into a cache folder outside the repo) and
# GNU time (/usr/bin/time) for peak RSS.
#
# Usage: scripts/pushbench/run.sh [ROWS...]     (default: 100000 1000000)
# Env:   PUSHBENCH_DIR  cache and scratch folder (default $TMPDIR/forcesync-pushbench)
#        PUSHBENCH_REPS runs per contender and case (default 3)
#        PUSHBENCH_CONTENDERS  (default "forcesync jsforce sf")
#        PUSHBENCH_BULK at-once (default): the emulator finishes a Bulk job inside
#                       the call that closes it, so no contender waits on a poll
#                       interval; async: the emulator's default, as Salesforce does,
#                       the job is processed after the close and clients poll
#        EMU_PORT       (default 7460)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${PUSHBENCH_DIR:-${TMPDIR:-/tmp}/forcesync-clients-check} # shared with scripts/clients-check: same lock file
reps=${PUSHBENCH_REPS:-3}
contenders=(${PUSHBENCH_CONTENDERS:-forcesync jsforce sf})
port=${EMU_PORT:-7460}
bulk_mode=${PUSHBENCH_BULK:-at-once}
case $bulk_mode in at-once|async) ;; *) echo "PUSHBENCH_BULK: want at-once or async, got $bulk_mode"; exit 2;; esac
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000)
mkdir -p "$dir"
[ -x /usr/bin/time ] || { echo "need GNU time at /usr/bin/time (apt-get install time)"; exit 1; }

# jsforce, sf and Node 22, pinned by scripts/clients-check's lock file.
cp "$repo/scripts/clients-check/package.json" "$repo/scripts/clients-check/package-lock.json" "$dir/"
if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
fi
cp "$here/jsforce-load.mjs" "$dir/"
export PATH="$dir/node_modules/.bin:$PATH"
node --version | grep -q '^v2[2-9]' || { echo "need Node >= 22, got $(node --version)"; exit 1; }
export SF_DISABLE_TELEMETRY=true SF_AUTOUPDATE_DISABLE=true SF_USE_GENERIC_UNIX_KEYCHAIN=true
export SF_SKIP_NEW_VERSION_CHECK=true SF_HIDE_RELEASE_NOTES=true SF_CONTAINER_MODE=true

(cd "$repo" && go build -o "$dir/forcesync" ./cmd/forcesync)
base="http://127.0.0.1:$port"
emu_pid=
stop_emu() { if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; emu_pid=; fi; }
trap stop_emu EXIT
fresh_emu() {
  stop_emu
  "$dir/forcesync" emulator --addr "127.0.0.1:$port" > "$dir/emulator.log" 2>&1 &
  emu_pid=$!
  for _ in $(seq 1 200); do curl -sf "$base/services/data" >/dev/null 2>&1 && break; sleep 0.05; done
  if [ "$bulk_mode" = at-once ]; then
    curl -sf -X POST "$base/__emulator/bulk/finish" -d '{"enabled":true}' >/dev/null
  fi
}

# The CSV: Salesforce field names as headers, so every contender reads the same file.
gen() { # gen ROWS CHANGED_EVERY OUT  (CHANGED_EVERY 0: none changed)
  awk -v n="$1" -v every="$2" 'BEGIN {
    print "Forcesync_Key__c,FirstName,LastName,Email,Company"
    for (i = 0; i < n; i++) {
      first = (every > 0 && i % every == 0) ? "Changed" i : "First" i
      printf "k%08d,%s,Last%d,user%d@example.com,Company %d\n", i, first, i, i, i % 500
    }
  }' > "$3"
}

cat > "$dir/forcesync.yaml" <<YAML
store:
  sqlite: fs.db
connections:
  - name: org
    login_url: $base
    auth: password
    client_id: forcesync-demo
    client_secret_env: SF_SECRET
    username: admin@forcesync.local
    password_env: SF_PASSWORD
sources:
  - name: lead
    key: Forcesync_Key__c
mappings:
  - name: leads
    source: lead
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - {target: FirstName, source: FirstName}
      - {target: LastName, source: LastName}
      - {target: Email, source: Email}
      - {target: Company, source: Company}
YAML

# load CONTENDER FILE: one load, printing "wall_ms rss_kib".
load() {
  local who=$1 file=$2 t0 t1 rc=0
  t0=$(date +%s%N)
  case $who in
  forcesync)
    (cd "$dir" && SF_SECRET=forcesync-demo-secret SF_PASSWORD=forcesync /usr/bin/time -f '%M %U %S' -o "$dir/rss" \
      ./forcesync push --config forcesync.yaml --source lead --file "$file" --restart > "$dir/out.log" 2>&1) || rc=$?
    ;;
  jsforce)
    (cd "$dir" && EMU_URL=$base /usr/bin/time -f '%M %U %S' -o "$dir/rss" node jsforce-load.mjs "$file" > "$dir/out.log" 2>&1) || rc=$?
    ;;
  sf)
    (cd "$dir/sfwork" && HOME="$dir/sfwork/home" /usr/bin/time -f '%M %U %S' -o "$dir/rss" \
      sf data upsert bulk --sobject Lead --file "$file" --external-id Forcesync_Key__c --wait 60 --target-org emu --json > "$dir/out.log" 2>&1) || rc=$?
    ;;
  esac
  t1=$(date +%s%N)
  if [ $rc -ne 0 ]; then echo "$who failed on $file:" >&2; tail -20 "$dir/out.log" >&2; exit 1; fi
  # wall ms, peak RSS KiB, CPU ms (user + system)
  tail -1 "$dir/rss" | awk -v w=$(( (t1 - t0) / 1000000 )) '{printf "%d %d %d\n", w, $1, ($2 + $3) * 1000}'

}
prepare() { # fresh org and client state for one contender
  fresh_emu
  rm -f "$dir"/fs.db*
  if [ "$1" = sf ]; then
    rm -rf "$dir/sfwork" && mkdir -p "$dir/sfwork/home"
    local tok
    tok=$(curl -sf "$base/services/oauth2/token" -d grant_type=password -d client_id=forcesync-demo \
      -d client_secret=forcesync-demo-secret -d username=admin@forcesync.local -d password=forcesync |
      node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).access_token')
    (cd "$dir/sfwork" && HOME="$dir/sfwork/home" SF_ACCESS_TOKEN="$tok" sf org login access-token \
      --instance-url "$base" --alias emu --no-prompt --json > /dev/null)
  fi
}
calls() { curl -sf "$base/__emulator/stats" | node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).total'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); $(go version | cut -d' ' -f3-); Bulk jobs $bulk_mode"
for rows in "${sizes[@]}"; do
  gen "$rows" 0 "$dir/new-$rows.csv"
  gen "$rows" 10 "$dir/changed-$rows.csv"
  for case in new changed; do
    : > "$dir/results"
    for rep in $(seq 1 "$reps"); do
      # Alternate: each repetition starts with the next contender.
      n=${#contenders[@]}
      for k in $(seq 0 $((n - 1))); do
        who=${contenders[$(( (rep - 1 + k) % n ))]}
        prepare "$who"
        if [ "$case" = changed ]; then load "$who" "$dir/new-$rows.csv" > /dev/null; fi
        curl -sf -X POST "$base/__emulator/stats/reset" > /dev/null
        read -r wall rss cpu < <(load "$who" "$dir/$case-$rows.csv")
        echo "$who $wall $(calls) $rss $cpu" >> "$dir/results"
        echo "  $rows rows, $case, run $rep, $who: ${wall} ms, $(tail -1 "$dir/results" | cut -d' ' -f3) calls, $((rss / 1024)) MiB, ${cpu} CPU ms" >&2
      done
    done
    fw=$(awk '$1 == "forcesync" {print $2}' "$dir/results" | median)
    printf '\n%s rows, %s file (medians of %s)\n' "$rows" "$case" "$reps"
    printf '%-10s %10s %8s %10s %10s %16s\n' contender wall_ms calls rss_MiB cpu_ms "wall/forcesync"
    for who in "${contenders[@]}"; do
      w=$(awk -v c="$who" '$1 == c {print $2}' "$dir/results" | median)
      c=$(awk -v c="$who" '$1 == c {print $3}' "$dir/results" | median)
      r=$(awk -v c="$who" '$1 == c {print $4}' "$dir/results" | median)
      u=$(awk -v c="$who" '$1 == c {print $5}' "$dir/results" | median)
      printf '%-10s %10s %8s %10s %10s %16s\n' "$who" "$w" "$c" "$((r / 1024))" "$u" "$(awk -v a="$w" -v b="$fw" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')"
    done
  done
done
