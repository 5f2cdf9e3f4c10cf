/**
 * Generates docs/api/postman_collection.json: the story of scripts/postman-plan.ts, each request
 * joined to its operation in the OpenAPI documents the servers serve (scripts/api-documents.ts,
 * the same route table `ansflow serve` listens with). Every request checks its status and
 * that its answer matches the documented schema of that status; newman runs it against a fresh
 * server in .ci/run (scripts/check-api.ts). `--check` exits non-zero when the file is stale.
 *   node --import tsx scripts/postman.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { apiDocuments, type OpenApiDocument, type OpenApiOperation } from './api-documents.js';
import { PLAN, type Folder, type Step } from './postman-plan.js';

export const COLLECTION_PATH = 'docs/api/postman_collection.json';

interface Operation {
  key: string;
  path: string;
  method: string;
  baseVar: string;
  op: OpenApiOperation;
  doc: OpenApiDocument;
}

function operationsOf(apis: Array<{ doc: OpenApiDocument; baseVar: string }>): Map<string, Operation> {
  const out = new Map<string, Operation>();
  for (const { doc, baseVar } of apis)
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const key = `${method.toUpperCase()} ${path}`;
        out.set(key, { key, path, method: method.toUpperCase(), baseVar, op, doc });
      }
  return out;
}

/** The schema with every `$ref` into components replaced by its target (the sandbox validates it alone). */
function inline(schema: unknown, doc: OpenApiDocument, seen: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, doc, seen));
  if (!schema || typeof schema !== 'object') return schema;
  const { $ref, $id: _id, ...rest } = schema as Record<string, unknown>;
  if (typeof $ref === 'string') {
    const name = $ref.replace('#/components/schemas/', '');
    if (seen.includes(name)) throw new Error(`recursive schema ${name}`);
    return inline(doc.components?.schemas?.[name], doc, [...seen, name]);
  }
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inline(v, doc, seen)]));
}

/** JSON text of `body` with `int('x')` markers turned into bare `{{x}}` (numbers, not strings). */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  return JSON.stringify(body, null, 2).replace(/"@@int:(\w+)@@"/g, '{{$1}}');
}

const js = (value: unknown) => JSON.stringify(value);

/** The test script: the status, then the answer against the documented schema of that status, then saved variables. */
function testScript(step: Step, operation: Operation): string[] {
  const responses = operation.op.responses ?? {};
  const documented: Record<string, { media: string; schema: unknown } | null> = {};
  for (const status of step.expect) {
    const response = responses[String(status)];
    if (!response) throw new Error(`${operation.key}: the plan expects ${status}, which the OpenAPI document does not list`);
    const [media, content] = Object.entries(response.content ?? {})[0] ?? [];
    documented[status] = media ? { media, schema: inline(content!.schema, operation.doc) } : null;
  }
  const lines = [
    `const documented = ${js(documented)};`,
    step.when ? `const expected = [].concat(${step.when});` : `const expected = ${js(step.expect)};`,
    "pm.test('status ' + expected.join(' or '), () => pm.expect(pm.response.code).to.be.oneOf(expected));",
    'const answer = documented[pm.response.code];',
    'if (answer === null) {',
    "  pm.test('no body', () => pm.expect(pm.response.text()).to.equal(''));",
    '} else if (answer) {',
    "  pm.test('Content-Type ' + answer.media, () => pm.expect(pm.response.headers.get('Content-Type') || '').to.include(answer.media));",
    "  if (answer.media === 'application/json') pm.test('the body matches the documented schema', () => pm.response.to.have.jsonSchema(answer.schema, { strict: false, validateFormats: false }));",
    '}',
  ];
  if (step.save) {
    lines.push('if (pm.response.code < 300) {', '  const body = pm.response.json();');
    for (const [variable, path] of Object.entries(step.save))
      lines.push(
        `  pm.collectionVariables.set(${js(variable)}, ${js(path)}.split('.').reduce((v, k) => (v == null ? v : v[k]), body));`,
        `  pm.test(${js(`saved ${variable}`)}, () => pm.expect(pm.collectionVariables.get(${js(variable)})).to.not.be.oneOf([undefined, null, '']));`,
      );
    lines.push('}');
  }
  if (step.test) lines.push(...step.test.split('\n'));
  return lines;
}

function itemOf(step: Step, operation: Operation) {
  // Postman joins the segments with '/': an empty last one keeps the document's trailing slash.
  const segments = operation.path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/^\{(.+)\}$/, ':$1'));
  const parameters = operation.op.parameters ?? [];
  for (const p of parameters.filter((p) => p.in === 'path'))
    if (!step.params?.[p.name]) throw new Error(`${operation.key}: the plan gives no value for the path parameter ${p.name}`);
  const documentedQuery = new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name));
  for (const name of Object.keys(step.query ?? {}))
    if (!documentedQuery.has(name) && !operation.key.includes('/oidc/callback/'))
      throw new Error(`${operation.key}: query parameter ${name} is not documented`);
  // Every documented query parameter is listed (the ones the story does not use, disabled).
  const query = [
    ...Object.entries(step.query ?? {}).map(([key, value]) => ({ key, value })),
    ...parameters
      .filter((p) => p.in === 'query' && !(p.name in (step.query ?? {})))
      .map((p) => ({ key: p.name, value: '', disabled: true, ...(p.description ? { description: p.description } : {}) })),
  ];
  const rawQuery = Object.entries(step.query ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = Object.entries(step.headers ?? {}).map(([key, value]) => ({ key, value }));
  if (step.body !== undefined && !headers.some((h) => h.key.toLowerCase() === 'content-type'))
    headers.unshift({ key: 'Content-Type', value: 'application/json' });
  const request: Record<string, unknown> = {
    method: operation.method,
    header: headers,
    url: {
      raw: `{{${operation.baseVar}}}${operation.path.replace(/\{(.+?)\}/g, ':$1')}${rawQuery ? `?${rawQuery}` : ''}`,
      host: [`{{${operation.baseVar}}}`],
      path: segments,
      ...(query.length ? { query } : {}),
      ...(step.params ? { variable: Object.entries(step.params).map(([key, value]) => ({ key, value })) } : {}),
    },
    ...(step.auth === 'none'
      ? { auth: { type: 'noauth' } }
      : step.auth
        ? { auth: { type: 'bearer', bearer: [{ key: 'token', value: step.auth, type: 'string' }] } }
        : {}),
    ...(step.body !== undefined
      ? { body: { mode: 'raw', raw: bodyText(step.body), options: { raw: { language: typeof step.body === 'string' ? 'text' : 'json' } } } }
      : {}),
    ...(operation.op.summary ? { description: operation.op.summary } : {}),
  };
  const event: unknown[] = [];
  if (step.prerequest) event.push({ listen: 'prerequest', script: { type: 'text/javascript', exec: step.prerequest.split('\n') } });
  event.push({ listen: 'test', script: { type: 'text/javascript', exec: testScript(step, operation) } });
  return {
    name: step.name ?? operation.op.summary ?? operation.key,
    event,
    request,
    ...(step.noRedirect ? { protocolProfileBehavior: { followRedirects: false } } : {}),
  };
}

export function collectionFrom(apis: Array<{ doc: OpenApiDocument; baseVar: string }>, plan: Folder[] = PLAN) {
  const operations = operationsOf(apis);
  const covered = new Set<string>();
  const folders = plan.map((folder) => ({
    name: folder.name,
    item: folder.steps.map((step) => {
      const operation = operations.get(step.op);
      if (!operation) throw new Error(`scripts/postman-plan.ts names ${step.op}, which no server documents`);
      covered.add(step.op);
      return itemOf(step, operation);
    }),
  }));
  const missing = [...operations.keys()].filter((k) => !covered.has(k));
  if (missing.length) throw new Error(`scripts/postman-plan.ts has no step for: ${missing.join(', ')} (add one where the story can use it)`);
  return {
    info: {
      name: 'AnsFlow API',
      description: [
        'Generated from the OpenAPI documents by scripts/postman.ts and the story in scripts/postman-plan.ts — do not edit by hand.',
        'Run it in order (newman run docs/api/postman_collection.json): it signs in with `username`/`password`, saves the token in `access_token`, creates what it uses and removes it at the end.',
        'Each request checks its status and that its answer matches the OpenAPI document.',
        'Set `github_webhook_secret`, `gitlab_webhook_token` and `metrics_token` to the server’s ANSFLOW_GITHUB_WEBHOOK_SECRET, ANSFLOW_GITLAB_WEBHOOK_TOKEN and ANSFLOW_METRICS_TOKEN when it has them.',
      ].join('\n\n'),
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
    variable: [
      { key: 'base_url', value: 'http://localhost:8000' },
      { key: 'fastapi_url', value: 'http://localhost:8001' },
      { key: 'token', value: '{{access_token}}' },
      { key: 'access_token', value: '' },
      { key: 'username', value: 'admin' },
      { key: 'password', value: 'admin123' },
      { key: 'github_webhook_secret', value: '' },
      { key: 'gitlab_webhook_token', value: '' },
      { key: 'metrics_token', value: '' },
    ],
    item: folders,
  };
}

export async function generateCollection(): Promise<string> {
  const { api, gateway } = await apiDocuments();
  return (
    JSON.stringify(
      collectionFrom([
        { doc: api, baseVar: 'base_url' },
        { doc: gateway, baseVar: 'fastapi_url' },
      ]),
      null,
      2,
    ) + '\n'
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await generateCollection();
  if (process.argv.includes('--check')) {
    const current = readFileSync(COLLECTION_PATH, 'utf8');
    if (current !== text) {
      console.error(`${COLLECTION_PATH} is stale: run npm run docs:api`);
      process.exit(1);
    }
  } else {
    writeFileSync(COLLECTION_PATH, text);
    console.log(`wrote ${COLLECTION_PATH}`);
  }
}
