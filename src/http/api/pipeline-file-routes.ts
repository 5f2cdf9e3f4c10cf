/** The pipeline file on the API: its JSON Schema (public), lint, and export of a stored pipeline. */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, textResponse } from '../schemas/common.js';
import { StepDefinitionSchema } from '../../domain/pipeline.js';
import { MAX_FILE_BYTES, PIPELINE_FILE_SCHEMA_PATH, pipelineFileJsonSchemaText } from '../../domain/pipeline-file/index.js';
import type { PipelineFiles } from '../../services/pipeline-files.js';

const Problem = Type.Object({
  path: Type.String({ description: 'The field, as `steps[2].needs[0]`; empty for the file itself' }),
  line: Type.Integer({ minimum: 1 }),
  column: Type.Integer({ minimum: 1 }),
  message: Type.String(),
});
const LintResult = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Array(Problem),
  warnings: Type.Array(Problem, { description: 'What lint could not check (includes are read only when a run reads the file from its repository)' }),
  steps: Type.Array(StepDefinitionSchema, { description: 'The expanded plan: matrix cells as steps, needs by step name; empty when not valid' }),
  variables: Type.Record(Type.String(), Type.String()),
});

export function pipelineFileRoutes(files: PipelineFiles) {
  const schemaText = pipelineFileJsonSchemaText();
  return (app: App) => {
    app.get(
      PIPELINE_FILE_SCHEMA_PATH,
      {
        config: { public: true },
        schema: {
          tags: ['pipelines'],
          summary: 'The JSON Schema of the pipeline file (for `# yaml-language-server: $schema=…`); public',
          security: [],
          response: { 200: textResponse('application/schema+json', 'The JSON Schema (draft 2020-12) of `.ansflow.yml`') },
        },
      },
      async (_request, reply) =>
        reply
          .type('application/schema+json; charset=utf-8')
          .header('cache-control', 'public, max-age=300')
          .header('x-content-type-options', 'nosniff')
          .send(schemaText),
    );

    app.post(
      '/api/pipelines/lint/',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Check a pipeline file and show the plan it expands to (includes are not read: they are listed as warnings)',
          body: Type.Object({ content: Type.String({ maxLength: MAX_FILE_BYTES }) }, { additionalProperties: false }),
          response: { 200: LintResult, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const result = await files.lint(currentUser(request), request.body.content);
        return { valid: result.valid, errors: result.errors, warnings: result.warnings, steps: result.steps, variables: result.variables };
      },
    );

    app.get(
      '/api/pipelines/:id/export/',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'The pipeline as a pipeline file (text/yaml); secret variables are named in a comment, not written',
          params: IdParams,
          response: { 200: textResponse('text/yaml', 'The pipeline file (`.ansflow.yml`)'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const origin = `${request.protocol}://${request.host}`;
        const text = await files.exportYaml(currentUser(request), request.params.id, `${origin}${PIPELINE_FILE_SCHEMA_PATH}`);
        return reply
          .type('text/yaml; charset=utf-8')
          .header('content-disposition', 'inline; filename=".ansflow.yml"')
          .header('x-content-type-options', 'nosniff')
          .send(text);
      },
    );
  };
}
