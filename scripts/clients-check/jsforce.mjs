// Drives the emulator with jsforce exactly as an app would, and prints one
// "PASS name" or "FAIL name: reason" line per step. Exit status 1 if any failed.
// EMU_URL (default http://127.0.0.1:7400) is the emulator's base URL; the
// emulator should run with --auto-approve (the OAuth code step needs it) and
// with Bulk jobs finishing at once (POST /__emulator/bulk/finish) to go fast.
import jsforce from 'jsforce';
import assert from 'node:assert/strict';

const base = process.env.EMU_URL || 'http://127.0.0.1:7400';
const clientId = 'forcesync-demo';
const clientSecret = 'forcesync-demo-secret';
const username = 'admin@forcesync.local';
const password = 'forcesync';
const redirectUri = 'http://localhost:1717/OauthRedirect';
const run = Date.now().toString(36); // keeps keys unique across runs on a kept org

let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    console.log(`PASS jsforce: ${name}`);
  } catch (err) {
    failed++;
    const detail = err && (err.errorCode ? `${err.errorCode}: ${err.message}` : err.stack || err);
    console.log(`FAIL jsforce: ${name}: ${String(detail).split('\n').slice(0, 4).join(' | ')}`);
  }
}

const oauth2 = new jsforce.OAuth2({ loginUrl: base, clientId, clientSecret, redirectUri });
let conn;

await step('conn.login (OAuth2 password grant)', async () => {
  conn = new jsforce.Connection({ oauth2, version: '62.0' });
  const info = await conn.login(username, password);
  assert.ok(conn.accessToken, 'no access token');
  assert.equal(conn.instanceUrl, base);
  assert.match(info.id, /^005/);
  assert.match(info.organizationId, /^00D/);
});

await step('conn.login without oauth2 (SOAP login)', async () => {
  const c = new jsforce.Connection({ loginUrl: base, version: '62.0' });
  await c.login(username, password);
  assert.ok(c.accessToken);
  const r = await c.query('SELECT Id FROM User LIMIT 1');
  assert.equal(r.records.length, 1);
  await c.logout(); // SOAP logout ends the session
  await assert.rejects(c.query('SELECT Id FROM User LIMIT 1'));
  await assert.rejects(new jsforce.Connection({ loginUrl: base }).login(username, 'wrong'), /INVALID_LOGIN/);
});

await step('OAuth2 authorization code (auto-approve) + refresh', async () => {
  const url = oauth2.getAuthorizationUrl({ scope: 'api refresh_token', state: 'xyz' });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302, `authorize answered ${res.status}`);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.searchParams.get('state'), 'xyz');
  const c = new jsforce.Connection({ oauth2, version: '62.0' });
  await c.authorize(loc.searchParams.get('code'));
  assert.ok(c.refreshToken, 'no refresh token');
  const id = await c.identity();
  assert.equal(id.username, username);
  let refreshed = false;
  c.on('refresh', () => { refreshed = true; });
  // Make the next call 401 so jsforce refreshes the session by itself.
  const r = await fetch(`${base}/__emulator/expire-sessions`, { method: 'POST' });
  assert.ok(r.ok);
  const q = await c.query('SELECT Id FROM User LIMIT 1');
  assert.equal(q.totalSize, 1);
  assert.ok(refreshed, 'jsforce did not refresh');
  // The password-grant session was expired too: log in again.
  await conn.login(username, password);
});

await step('OAuth2 client_credentials via token endpoint', async () => {
  const res = await fetch(`${base}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  assert.equal(res.status, 200);
  const tok = await res.json();
  const c = new jsforce.Connection({ instanceUrl: tok.instance_url, accessToken: tok.access_token, version: '62.0' });
  const lim = await c.limits();
  assert.ok(lim.DailyApiRequests.Max > 0);
});

await step('describe Lead + describeGlobal', async () => {
  const d = await conn.sobject('Lead').describe();
  assert.equal(d.name, 'Lead');
  const key = d.fields.find((f) => f.name === 'Forcesync_Key__c');
  assert.ok(key && key.externalId, 'Forcesync_Key__c not an external id');
  const g = await conn.describeGlobal();
  assert.ok(g.sobjects.some((s) => s.name === 'Contact'));
});

const leadIds = [];
await step('CRUD on Lead (create/retrieve/update/destroy)', async () => {
  const r = await conn.sobject('Lead').create({ LastName: `Crud-${run}`, Company: 'Acme' });
  assert.ok(r.success && r.id);
  const got = await conn.sobject('Lead').retrieve(r.id);
  assert.equal(got.LastName, `Crud-${run}`);
  const u = await conn.sobject('Lead').update({ Id: r.id, Company: 'Acme 2' });
  assert.ok(u.success);
  assert.equal((await conn.sobject('Lead').retrieve(r.id)).Company, 'Acme 2');
  const d = await conn.sobject('Lead').destroy(r.id);
  assert.ok(d.success);
  await assert.rejects(conn.sobject('Lead').retrieve(r.id), (e) => e.errorCode === 'ENTITY_IS_DELETED' || e.errorCode === 'NOT_FOUND');
});

await step('upsert Lead by Forcesync_Key__c (insert then update)', async () => {
  const key = `up-${run}`;
  const a = await conn.sobject('Lead').upsert({ Forcesync_Key__c: key, LastName: 'Up', Company: 'A' }, 'Forcesync_Key__c');
  assert.ok(a.success && a.created === true, `first upsert: ${JSON.stringify(a)}`);
  const b = await conn.sobject('Lead').upsert({ Forcesync_Key__c: key, LastName: 'Up2', Company: 'A' }, 'Forcesync_Key__c');
  assert.ok(b.success && b.created === false, `second upsert: ${JSON.stringify(b)}`);
  const q = await conn.query(`SELECT Id, LastName FROM Lead WHERE Forcesync_Key__c = '${key}'`);
  assert.equal(q.totalSize, 1);
  assert.equal(q.records[0].LastName, 'Up2');
  leadIds.push(q.records[0].Id);
});

let collIds = [];
await step('sObject collections: create/update/destroy arrays', async () => {
  const recs = Array.from({ length: 5 }, (_, i) => ({ LastName: `Coll-${run}-${i}`, Company: 'C' }));
  const created = await conn.sobject('Lead').create(recs, { allOrNone: true });
  assert.equal(created.length, 5);
  assert.ok(created.every((r) => r.success));
  collIds = created.map((r) => r.id);
  const upd = await conn.sobject('Lead').update(collIds.map((Id) => ({ Id, Company: 'C2' })));
  assert.ok(upd.every((r) => r.success));
  const ups = await conn.sobject('Lead').upsert(
    [{ Forcesync_Key__c: `cu-${run}-1`, LastName: 'CU', Company: 'X' }, { Forcesync_Key__c: `up-${run}`, LastName: 'Up3', Company: 'A' }],
    'Forcesync_Key__c');
  assert.deepEqual(ups.map((r) => [r.success, r.created]), [[true, true], [true, false]]);
  const del = await conn.sobject('Lead').destroy(collIds);
  assert.ok(del.every((r) => r.success));
  // A failing element without allOrNone reports per-record errors.
  const mixed = await conn.sobject('Lead').create([{ LastName: 'ok', Company: 'x' }, { Company: 'no last name' }]);
  assert.equal(mixed[0].success, true);
  assert.equal(mixed[1].success, false);
  assert.equal(mixed[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
});

await step('query + queryMore and autoFetch over 2,100 rows', async () => {
  // Seed through the emulator's admin API so the step is quick.
  const records = Array.from({ length: 2100 }, (_, i) => ({ LastName: `Page-${run}-${i}`, Company: 'P' }));
  const s = await fetch(`${base}/__emulator/seed`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ object: 'Lead', records }),
  });
  assert.ok(s.ok, `seed: ${s.status} ${await s.text()}`);
  const soql = `SELECT Id, LastName FROM Lead WHERE Company = 'P' AND LastName LIKE 'Page-${run}-%'`;
  const first = await conn.query(soql);
  assert.equal(first.totalSize, 2100);
  assert.equal(first.done, false);
  assert.ok(first.nextRecordsUrl);
  let n = first.records.length;
  let page = first;
  while (!page.done) {
    page = await conn.queryMore(page.nextRecordsUrl);
    n += page.records.length;
  }
  assert.equal(n, 2100);
  const all = await conn.query(soql).run({ autoFetch: true, maxFetch: 5000 });
  assert.equal(all.records.length, 2100);
  const streamed = [];
  await new Promise((resolve, reject) => {
    conn.query(soql).on('record', (r) => streamed.push(r)).on('end', resolve).on('error', reject)
      .run({ autoFetch: true, maxFetch: 5000 });
  });
  assert.equal(streamed.length, 2100);
  const cnt = await conn.query(`SELECT COUNT() FROM Lead WHERE LastName LIKE 'Page-${run}-%'`);
  assert.equal(cnt.totalSize, 2100);
});

await step('queryAll sees deleted rows', async () => {
  const r = await conn.query(`SELECT Id, IsDeleted FROM Lead WHERE Id = '${collIds[0]}'`, { scanAll: true });
  assert.equal(r.totalSize, 1);
  assert.equal(r.records[0].IsDeleted, true);
});

await step('bulk2.loadAndWaitForResults insert', async () => {
  const input = Array.from({ length: 300 }, (_, i) => ({ LastName: `Bulk-${run}-${i}`, Company: 'B', Forcesync_Key__c: `bk-${run}-${i}` }));
  input.push({ Company: 'missing LastName' });
  conn.bulk2.pollInterval = 200;
  conn.bulk2.pollTimeout = 60000;
  const res = await conn.bulk2.loadAndWaitForResults({ object: 'Lead', operation: 'insert', input });
  assert.equal(res.successfulResults.length, 300);
  assert.ok(res.successfulResults[0].sf__Id);
  assert.equal(res.failedResults.length, 1);
  assert.match(res.failedResults[0].sf__Error, /REQUIRED_FIELD_MISSING/);
});

await step('bulk2.loadAndWaitForResults upsert by Forcesync_Key__c', async () => {
  const input = Array.from({ length: 10 }, (_, i) => ({ Forcesync_Key__c: `bk-${run}-${i * 30}`, LastName: `BulkUp-${run}-${i}`, Company: 'B' }));
  input.push({ Forcesync_Key__c: `bk-${run}-new`, LastName: 'BulkNew', Company: 'B' });
  const res = await conn.bulk2.loadAndWaitForResults({ object: 'Lead', operation: 'upsert', externalIdFieldName: 'Forcesync_Key__c', input });
  assert.equal(res.successfulResults.length, 11);
  const created = res.successfulResults.filter((r) => String(r.sf__Created) === 'true').length;
  assert.equal(created, 1);
  const q = await conn.query(`SELECT COUNT() FROM Lead WHERE LastName LIKE 'BulkUp-${run}-%'`);
  assert.equal(q.totalSize, 10);
});

await step('bulk2.query (Sforce-Locator paging)', async () => {
  const recs = await conn.bulk2.query(`SELECT Id, LastName FROM Lead WHERE LastName LIKE 'Page-${run}-%'`, { pollInterval: 200, pollTimeout: 60000 });
  const rows = await recs.toArray();
  assert.equal(rows.length, 2100);
  assert.ok(rows[0].Id && rows[0].LastName);
});

await step('bad SOQL and unknown object errors', async () => {
  await assert.rejects(conn.query('SELEC Id FROM Lead'), (e) => e.errorCode === 'MALFORMED_QUERY');
  await assert.rejects(conn.query('SELECT Id FROM NoSuchThing'), (e) => e.errorCode === 'INVALID_TYPE');
});

await step('limits + identity + logout', async () => {
  const lim = await conn.limits();
  assert.ok(lim.DailyApiRequests.Remaining <= lim.DailyApiRequests.Max);
  const id = await conn.identity();
  assert.equal(id.username, username);
  await conn.logout();
  await assert.rejects(conn.query('SELECT Id FROM User LIMIT 1'));
});

console.log(failed ? `jsforce: ${failed} step(s) failed` : 'jsforce: all steps passed');
process.exit(failed ? 1 : 0);
