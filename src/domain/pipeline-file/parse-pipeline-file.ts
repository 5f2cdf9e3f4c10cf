/**
 * The pipeline file's one entry point: text in (and a way to read includes), a plan or every
 * problem out. Pure apart from the FileSource it is given; lint, the CLI and a run use it alike.
 */
import { loadFiles, type LoadedFiles } from './includes.js';
import { planFiles } from './plan.js';
import type { FileProblem, ParseOptions, PipelineFileResult } from './types.js';

export async function parsePipelineFile(content: string, options: ParseOptions): Promise<PipelineFileResult> {
  const policy = options.gitPolicy ?? { allowLocal: false };
  const loaded = await loadFiles(content, { path: options.path, source: options.source, maxIncludeDepth: options.maxIncludeDepth, gitPolicy: policy });
  const topLoaded = loaded.files.some((f) => f.depth === 0);
  if (loaded.errors.length > 0 || !topLoaded)
    return {
      valid: false,
      errors: sorted(loaded.errors, options.path),
      warnings: sorted(loaded.warnings, options.path),
      steps: [],
      conditions: {},
      left_out: [],
      variables: {},
      skipped: null,
    };
  let context = options.context;
  if (context && options.changedFiles && filtersByPaths(loaded)) context = { ...context, changedFiles: await options.changedFiles() };
  const plan = planFiles(loaded, context, policy);
  const errors = sorted(plan.errors, options.path);
  return {
    valid: errors.length === 0,
    errors,
    warnings: sorted([...loaded.warnings, ...plan.warnings], options.path),
    steps: errors.length === 0 ? plan.steps : [],
    conditions: errors.length === 0 ? plan.conditions : {},
    left_out: errors.length === 0 ? plan.leftOut : [],
    variables: plan.variables,
    skipped: plan.skipped,
  };
}

/** Whether any file read has a `paths` or `paths_ignore` condition (on the file or on a step). */
function filtersByPaths(loaded: LoadedFiles): boolean {
  const filters = (when: { paths?: unknown; paths_ignore?: unknown } | undefined) => when?.paths !== undefined || when?.paths_ignore !== undefined;
  return loaded.files.some((f) => filters(f.data.when) || (f.data.steps ?? []).some((s) => filters(s.when)));
}

/** The pipeline file's problems first, then each included file's; in each, top to bottom. */
function sorted(problems: FileProblem[], top: string): FileProblem[] {
  const fileOrder = new Map<string, number>([[top, 0]]);
  for (const p of problems) if (!fileOrder.has(p.file)) fileOrder.set(p.file, fileOrder.size);
  return [...problems].sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line || a.column - b.column);
}
