/**
 * The pipeline file as a user meets it through the API: lint a text (nothing is read from any
 * repository, so includes are listed as warnings) and export a pipeline defined in AnsFlow as a file.
 */
import { decideGlobal, type Actor } from '../domain/permissions.js';
import { permissionDenied } from '../domain/errors.js';
import { redactStepRepositories, type GitUrlPolicy } from '../domain/git-url.js';
import { parsePipelineFile, pipelineToYaml, type PipelineFileResult } from '../domain/pipeline-file/index.js';
import type { PipelinesService } from './pipelines-service.js';

/** How lint names the text it is given. */
export const LINT_FILE_NAME = '.ansflow.yml';

export class PipelineFiles {
  constructor(private readonly deps: { pipelines: PipelinesService; gitPolicy: GitUrlPolicy }) {}

  async lint(actor: Actor, content: string): Promise<PipelineFileResult> {
    if (decideGlobal(actor, 'lint_pipeline_file') !== 'allow') throw permissionDenied();
    return parsePipelineFile(content, { path: LINT_FILE_NAME, gitPolicy: this.deps.gitPolicy });
  }

  /** The pipeline as YAML (404 unless the actor may read it); credentials in repository URLs and secret values stay out. */
  async exportYaml(actor: Actor, id: number, schemaUrl: string): Promise<string> {
    const pipeline = await this.deps.pipelines.get(actor, id);
    return pipelineToYaml({ name: pipeline.name, steps: redactStepRepositories(pipeline.steps), variables: pipeline.variables }, { schemaUrl });
  }
}
