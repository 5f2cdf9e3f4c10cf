import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COLLECTION_PATH, generateCollection } from '../../scripts/postman.js';

test('docs/api/postman_collection.json matches the OpenAPI document (run `npm run docs:api` when routes change)', async () => {
  const fresh = await generateCollection();
  const committed = readFileSync(COLLECTION_PATH, 'utf8');
  assert.equal(committed, fresh, 'the Postman collection is stale: run npm run docs:api');
  const collection = JSON.parse(committed);
  const names = collection.item.flatMap((f: { item: Array<{ request: { method: string; url: { raw: string } } }> }) =>
    f.item.map((i) => `${i.request.method} ${i.request.url.raw}`),
  );
  assert.ok(names.includes('POST {{base_url}}/api/auth/login/'));
  assert.ok(names.includes('POST {{base_url}}/api/pipelines/:id/run/'));
});
