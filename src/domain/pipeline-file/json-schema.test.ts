import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { pipelineFileJsonSchema, pipelineFileJsonSchemaText } from './json-schema.js';

const COMMITTED = new URL('../../../docs/pipeline-file.schema.json', import.meta.url);

test('docs/pipeline-file.schema.json is the schema generated from the TypeBox source (regenerate: npx tsx scripts/pipeline-file-schema.ts)', () => {
  assert.equal(readFileSync(COMMITTED, 'utf8'), pipelineFileJsonSchemaText());
});

test('the published schema is plain draft-07 that another validator (an editor) accepts, and it checks a file', () => {
  const schema = pipelineFileJsonSchema();
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  const validate = new Ajv({ strict: true, strictTypes: false, allowUnionTypes: true }).compile(schema);
  assert.equal(validate(parse('steps:\n  - name: a\n    run: make\n    matrix: { NODE: [20, 22] }\n    when: { branch: main, status: always }\n')), true);
  assert.equal(validate(parse('steps:\n  - name: a\n    runn: make\n')), false);
});
