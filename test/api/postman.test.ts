import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COLLECTION_PATH, collectionFrom, generateCollection } from '../../scripts/postman.js';
import type { OpenApiDocument } from '../../scripts/api-documents.js';

test('docs/api/postman_collection.json matches the OpenAPI documents and the story (run `npm run docs:api` when routes change)', async () => {
  const fresh = await generateCollection();
  const committed = readFileSync(COLLECTION_PATH, 'utf8');
  assert.equal(committed, fresh, 'the Postman collection is stale: run npm run docs:api');
  const collection = JSON.parse(committed);
  const items = collection.item.flatMap((f: { item: any[] }) => f.item);
  const names = items.map((i: { request: { method: string; url: { raw: string } } }) => `${i.request.method} ${i.request.url.raw.split('?')[0]}`);
  // Signing in comes first and saves the token the collection's bearer auth uses.
  assert.equal(names[0], 'POST {{base_url}}/api/auth/login/');
  assert.match(items[0].event.find((e: { listen: string }) => e.listen === 'test').script.exec.join('\n'), /collectionVariables\.set\("access_token"/);
  assert.deepEqual(collection.auth.bearer[0].value, '{{token}}');
  assert.ok(collection.variable.some((v: { key: string; value: string }) => v.key === 'token' && v.value === '{{access_token}}'));
  assert.ok(names.includes('POST {{base_url}}/api/pipelines/:id/run/'));
  assert.ok(names.includes('POST {{base_url}}/api/pipelines/lint/'));
  // Every request checks its status.
  for (const item of items)
    assert.match(item.event.find((e: { listen: string }) => e.listen === 'test').script.exec.join('\n'), /pm\.response\.code/, item.name);
  // Deletions only remove what the story made (saved ids), never a fixed id.
  for (const item of items.filter((i: { request: { method: string } }) => i.request.method === 'DELETE'))
    for (const v of item.request.url.variable ?? []) assert.match(v.value, /^\{\{\w+\}\}$/, item.name);
});

test('a route the story does not use stops the generation', () => {
  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    paths: {
      '/api/auth/login/': { post: { responses: { 200: { content: { 'application/json': { schema: {} } } } } } },
      '/api/new-thing/': { get: { responses: { 200: {} } } },
    },
  };
  assert.throws(
    () => collectionFrom([{ doc, baseVar: 'base_url' }], [{ name: 'x', steps: [{ op: 'POST /api/auth/login/', expect: [200] }] }]),
    /no step for: GET \/api\/new-thing\//,
  );
  assert.throws(() => collectionFrom([{ doc, baseVar: 'base_url' }], [{ name: 'x', steps: [{ op: 'GET /api/gone/', expect: [200] }] }]), /no server documents/);
  assert.throws(
    () =>
      collectionFrom(
        [{ doc, baseVar: 'base_url' }],
        [
          {
            name: 'x',
            steps: [
              { op: 'POST /api/auth/login/', expect: [201] },
              { op: 'GET /api/new-thing/', expect: [200] },
            ],
          },
        ],
      ),
    /expects 201, which the OpenAPI document does not list/,
  );
});
