#!/usr/bin/env bash
# Drives the emulator with the Salesforce CLI (sf), unmodified, and prints one
# "PASS sf: step" or "FAIL sf: step: output" line per step; exits 1 if any failed.
#
# Needs: sf and Node >= 22 first on PATH (run.sh arranges it), the emulator at
# EMU_URL (http) and EMU_TLS_URL (https, its certificate in EMU_CERT), started
# with --config holding the JWT certificate of JWT_KEY (run.sh writes both).
# Everything the CLI saves goes under $HOME, which the caller points at a
# scratch directory so the user's real logins are never touched.
set -u
EMU_URL=${EMU_URL:-http://127.0.0.1:7400}
EMU_TLS_URL=${EMU_TLS_URL:-}
EMU_CERT=${EMU_CERT:-}
JWT_KEY=${JWT_KEY:-}
CLIENT_ID=forcesync-demo
CLIENT_SECRET=forcesync-demo-secret
USERNAME=admin@forcesync.local
PASSWORD=forcesync
export SF_DISABLE_TELEMETRY=true SF_AUTOUPDATE_DISABLE=true SF_USE_GENERIC_UNIX_KEYCHAIN=true
export SF_SKIP_NEW_VERSION_CHECK=true SF_HIDE_RELEASE_NOTES=true SF_CONTAINER_MODE=true
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RUN=$(date +%s%N | tail -c 9)
failed=0

# step NAME CHECK -- CMD...: runs CMD, keeps its output in $OUT, then runs the
# shell expression CHECK (empty: exit status 0 is enough).
step() {
  local name=$1 check=$2
  shift 3
  OUT=$("$@" 2>&1)
  local rc=$?
  if [ $rc -eq 0 ] && { [ -z "$check" ] || eval "$check"; }; then
    echo "PASS sf: $name"
  else
    failed=$((failed + 1))
    echo "FAIL sf: $name (exit $rc): $(printf '%s' "$OUT" | tr '\n' ' ' | cut -c1-600)"
  fi
}
# json EXPR: evaluates a JavaScript expression over the JSON in $OUT as `j`.
json() { printf '%s' "$OUT" | node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));const v=('"$1"');if(!v)process.exit(1);console.log(v===true?"":v)'; }

token() {
  curl -sf "$EMU_URL/services/oauth2/token" -d grant_type=password -d client_id=$CLIENT_ID \
    -d client_secret=$CLIENT_SECRET -d username=$USERNAME -d password=$PASSWORD |
    node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).access_token'
}

# --- logins ---------------------------------------------------------------

# The CLI keeps one login per username and moves an alias to the newest login
# of that user, so every login shares the alias "emu"; the last one (JWT, else
# sfdx-url) serves the data steps. The access-token login saves the instance
# URL with a trailing slash, so its calls ask for "//services/data/...".
TOKEN=$(token)
step "org login access-token (http)" 'json "j.result.username===\"$USERNAME\"" >/dev/null' -- \
  env SF_ACCESS_TOKEN="$TOKEN" sf org login access-token --instance-url "$EMU_URL" --alias emu --no-prompt --json

step "org display after access-token login" 'json "j.result.connectedStatus===\"Connected\"" >/dev/null' -- \
  sf org display --target-org emu --json
step "limits api display after access-token login" 'json "j.result.some(l=>l.name===\"DailyApiRequests\")" >/dev/null' -- \
  sf limits api display --target-org emu --json

if [ -n "$EMU_TLS_URL" ]; then
  # A refresh token for the sfdx URL: the code flow of the emulator's
  # auto-approve mode, then the code grant.
  CODE=$(curl -s -o /dev/null -w '%{redirect_url}' "$EMU_URL/services/oauth2/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect" |
    sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
  REFRESH=$(curl -s "$EMU_URL/services/oauth2/token" -d grant_type=authorization_code -d client_id=$CLIENT_ID \
    -d client_secret=$CLIENT_SECRET --data-urlencode "code=$(printf '%b' "${CODE//%/\\x}")" -d redirect_uri=http://localhost:1717/OauthRedirect |
    node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).refresh_token')
  host=${EMU_TLS_URL#https://}
  echo "force://$CLIENT_ID:$CLIENT_SECRET:$REFRESH@$host" > "$WORK/sfdx-url.txt"
  step "org login sfdx-url (https)" 'json "j.result.username===\"$USERNAME\"" >/dev/null' -- \
    env NODE_EXTRA_CA_CERTS="$EMU_CERT" sf org login sfdx-url --sfdx-url-file "$WORK/sfdx-url.txt" --alias emu --json
  step "data query via the sfdx-url login" 'json "j.result.totalSize===1" >/dev/null' -- \
    env NODE_EXTRA_CA_CERTS="$EMU_CERT" sf data query --query "SELECT Id FROM User WHERE Username = '$USERNAME'" --target-org emu --json
else
  echo "SKIP sf: org login sfdx-url (no EMU_TLS_URL)"
fi

if [ -n "$JWT_KEY" ]; then
  step "org login jwt" 'json "j.result.username===\"$USERNAME\"" >/dev/null' -- \
    sf org login jwt --client-id $CLIENT_ID --jwt-key-file "$JWT_KEY" --username $USERNAME --instance-url "$EMU_URL" --alias emu --json
  step "data query via the jwt login" 'json "j.result.totalSize===1" >/dev/null' -- \
    sf data query --query "SELECT Id FROM User WHERE Username = '$USERNAME'" --target-org emu --json
else
  echo "SKIP sf: org login jwt (no JWT_KEY)"
fi

# --- org information ----------------------------------------------------------
step "org display" 'json "j.result.connectedStatus===\"Connected\" && j.result.instanceUrl.startsWith(\"http://127.0.0.1\")" >/dev/null' -- \
  sf org display --target-org emu --json
step "org list" 'json "JSON.stringify(j.result).includes(\"emu\")" >/dev/null' -- sf org list --json
step "limits api display" 'json "j.result.some(l=>l.name===\"DailyApiRequests\" && l.max>0)" >/dev/null' -- \
  sf limits api display --target-org emu --json
step "sobject describe Lead" 'json "j.result.name===\"Lead\" && j.result.fields.some(f=>f.name===\"Forcesync_Key__c\" && f.externalId)" >/dev/null' -- \
  sf sobject describe --sobject Lead --target-org emu --json
step "sobject list" 'json "j.result.includes(\"Lead\")" >/dev/null' -- sf sobject list --sobject all --target-org emu --json

# --- records ------------------------------------------------------------------
step "data create record" 'ID=$(json "j.result.id")' -- \
  sf data create record --sobject Lead --values "LastName='Sf $RUN' Company=Acme Forcesync_Key__c=sf-$RUN" --target-org emu --json
step "data get record by id" 'json "j.result.LastName===\"Sf $RUN\"" >/dev/null' -- \
  sf data get record --sobject Lead --record-id "${ID:-none}" --target-org emu --json
step "data get record by where" 'json "j.result.Id===\"${ID:-none}\"" >/dev/null' -- \
  sf data get record --sobject Lead --where "Forcesync_Key__c=sf-$RUN" --target-org emu --json
step "data update record" '' -- \
  sf data update record --sobject Lead --record-id "${ID:-none}" --values "Company='Acme Two'" --target-org emu --json
step "data query (human output)" 'printf "%s" "$OUT" | grep -q "Acme Two"' -- \
  sf data query --query "SELECT Id, Company FROM Lead WHERE Id = '${ID:-none}'" --target-org emu
step "data query --result-format csv" 'printf "%s" "$OUT" | grep -q "Acme Two"' -- \
  sf data query --query "SELECT Id, Company FROM Lead WHERE Id = '${ID:-none}'" --result-format csv --target-org emu
step "data query --all-rows" '' -- \
  sf data query --query "SELECT Id FROM Lead WHERE IsDeleted = true" --all-rows --target-org emu --json
step "data delete record" '' -- \
  sf data delete record --sobject Lead --record-id "${ID:-none}" --target-org emu --json
step "data query after delete" 'json "j.result.totalSize===0" >/dev/null' -- \
  sf data query --query "SELECT Id FROM Lead WHERE Id = '${ID:-none}'" --target-org emu --json

# --- bulk -----------------------------------------------------------------
{
  echo "LastName,Company,Forcesync_Key__c"
  for i in $(seq 1 50); do echo "Bulk $RUN $i,Acme,sfb-$RUN-$i"; done
} > "$WORK/insert.csv"
step "data import bulk (insert 50)" 'json "j.result.processedRecords===50 && j.result.failedRecords===0" >/dev/null' -- \
  sf data import bulk --file "$WORK/insert.csv" --sobject Lead --wait 2 --target-org emu --json
{
  echo "Forcesync_Key__c,LastName,Company"
  for i in $(seq 41 60); do echo "sfb-$RUN-$i,Upserted $RUN $i,Acme"; done
} > "$WORK/upsert.csv"
step "data upsert bulk (20 rows, 10 new)" 'json "(j.result.processedRecords ?? j.result.jobInfo.numberRecordsProcessed)===20 && (j.result.failedRecords ?? j.result.jobInfo.numberRecordsFailed)===0" >/dev/null' -- \
  sf data upsert bulk --file "$WORK/upsert.csv" --sobject Lead --external-id Forcesync_Key__c --wait 2 --target-org emu --json
step "data query counts the upsert" 'json "j.result.totalSize===60" >/dev/null' -- \
  sf data query --query "SELECT Id FROM Lead WHERE Forcesync_Key__c LIKE 'sfb-$RUN-%'" --target-org emu --json
step "data export bulk (csv)" '[ "$(wc -l < "$WORK/export.csv")" -eq 61 ]' -- \
  sf data export bulk --query "SELECT Id, LastName FROM Lead WHERE Forcesync_Key__c LIKE 'sfb-$RUN-%'" --output-file "$WORK/export.csv" --result-format csv --wait 2 --target-org emu --json
sed -n '1p;2,11p' "$WORK/export.csv" 2>/dev/null | cut -d, -f1 > "$WORK/delete.csv"
step "data delete bulk (10)" 'json "(j.result.processedRecords ?? j.result.jobInfo.numberRecordsProcessed)===10" >/dev/null' -- \
  sf data delete bulk --file "$WORK/delete.csv" --sobject Lead --wait 2 --target-org emu --json

# Tree import (POST /composite/tree/{type}) and export (a parent-to-child query).
cat > "$WORK/tree.json" <<EOF
{"records":[{"attributes":{"type":"Account","referenceId":"AccRef1"},"Name":"Tree $RUN",
 "Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"ConRef1"},"LastName":"Tree $RUN"}]}}]}
EOF
step "data import tree (account with a contact)" 'json "j.result.length===2 && j.result.every(r=>r.id)" >/dev/null' -- \
  sf data import tree --files "$WORK/tree.json" --target-org emu --json
step "data export tree --plan" '[ -f "$WORK/tree-out/Contact.json" ] && grep -q "@AccountRef1" "$WORK/tree-out/Contact.json"' -- \
  sf data export tree --query "SELECT Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name = 'Tree $RUN'" --plan --output-dir "$WORK/tree-out" --target-org emu --json

step "org logout" '' -- sf org logout --target-org emu --no-prompt --json

if [ $failed -eq 0 ]; then echo "sf: all steps passed"; else echo "sf: $failed step(s) failed"; fi
[ $failed -eq 0 ]
