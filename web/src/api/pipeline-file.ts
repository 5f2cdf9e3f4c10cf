/** Pipelines as code: linting a pipeline file and exporting a stored pipeline as one. */
import { api, request } from './client';
import type { PipelineFileError, StepDefinition } from './types';

export interface LintResult {
  valid: boolean;
  errors: PipelineFileError[];
  /** What could not be checked here (an include lint cannot read); never makes the file invalid. */
  warnings?: PipelineFileError[];
  /** The expanded plan: matrix cells as steps of their own, each with the steps it needs. */
  steps: StepDefinition[];
}

export const lintPipelineFile = (content: string, o: { signal?: AbortSignal } = {}) =>
  api<LintResult>('/api/pipelines/lint/', { method: 'POST', body: { content }, ...o });

/** A pipeline defined in the UI, as the YAML of a pipeline file. */
export async function exportPipelineYaml(id: number | string, o: { signal?: AbortSignal } = {}): Promise<string> {
  const res = await request(`/api/pipelines/${id}/export/`, o);
  return res.text();
}
