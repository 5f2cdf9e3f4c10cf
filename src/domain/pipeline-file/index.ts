/** The pipeline file: parse and plan (parsePipelineFile), its JSON Schema, and export (pipelineToYaml). */
export { parsePipelineFile } from './parse-pipeline-file.js';
export { pipelineToYaml, type ExportablePipeline, type ExportOptions } from './to-yaml.js';
export { pipelineFileJsonSchema, pipelineFileJsonSchemaText, PIPELINE_FILE_SCHEMA_PATH } from './json-schema.js';
export { PipelineFileSchema, MAX_MATRIX_CELLS } from './schema.js';
export { NO_MATCHING_CHANGES } from './when.js';
export { DEFAULT_MAX_INCLUDE_DEPTH, MAX_FILES } from './includes.js';
export { MAX_PLAN_STEPS } from './plan.js';
export { MAX_FILE_BYTES } from './yaml-document.js';
export {
  IncludeNotAvailableError,
  PLAN_EVENTS,
  type FileProblem,
  type FileRef,
  type FileSource,
  type ParseOptions,
  type PipelineFileResult,
  type PlanContext,
  type PlanEvent,
} from './types.js';
