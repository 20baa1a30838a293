// Upserts a CSV of Leads by Forcesync_Key__c with jsforce's Bulk API 2.0
// helper, as an app would: bulk2.loadAndWaitForResults with its defaults.
// Usage: node jsforce-load.mjs FILE.csv   (EMU_URL: the emulator's base URL)
import jsforce from 'jsforce';
import fs from 'node:fs';

const base = process.env.EMU_URL || 'http://127.0.0.1:7400';
const oauth2 = new jsforce.OAuth2({ loginUrl: base, clientId: 'forcesync-demo', clientSecret: 'forcesync-demo-secret' });
const conn = new jsforce.Connection({ oauth2, version: '62.0' });
await conn.login('admin@forcesync.local', 'forcesync');
conn.bulk2.pollTimeout = 30 * 60 * 1000;
const res = await conn.bulk2.loadAndWaitForResults({
  object: 'Lead',
  operation: 'upsert',
  externalIdFieldName: 'Forcesync_Key__c',
  input: fs.createReadStream(process.argv[2]),
});
const ok = res.successfulResults.length, bad = res.failedResults.length + res.unprocessedRecords.length;
console.log(`jsforce: ${ok} succeeded, ${bad} failed or unprocessed`);
if (bad > 0) process.exit(1);
