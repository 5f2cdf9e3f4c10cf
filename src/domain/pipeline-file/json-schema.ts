/**
 * The published JSON Schema of the pipeline file (served at PIPELINE_FILE_SCHEMA_PATH, committed as
 * docs/pipeline-file.schema.json), generated from the TypeBox source so the two never differ.
 */
import { PipelineFileSchema } from './schema.js';

export const PIPELINE_FILE_SCHEMA_PATH = '/api/schemas/pipeline-file.json';

export function pipelineFileJsonSchema(): Record<string, unknown> {
  // A JSON round trip drops TypeBox's symbol keys and leaves plain draft-07 keywords.
  const body = JSON.parse(JSON.stringify(PipelineFileSchema)) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'AnsFlow pipeline file',
    description: 'A pipeline kept in its repository (.ansflow.yml). See docs/pipeline-file.md.',
    ...body,
  };
}

/** The schema as the file and the route serve it: stable key order, two-space indent, final newline. */
export const pipelineFileJsonSchemaText = (): string => `${JSON.stringify(pipelineFileJsonSchema(), null, 2)}\n`;
