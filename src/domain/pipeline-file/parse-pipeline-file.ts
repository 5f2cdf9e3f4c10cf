/**
 * The pipeline file's one entry point: text in (and a way to read includes), a plan or every
 * problem out. Pure apart from the FileSource it is given; lint, the CLI and a run use it alike.
 */
import { loadFiles } from './includes.js';
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
      variables: {},
      skipped: null,
    };
  const plan = planFiles(loaded, options.context, policy);
  const errors = sorted(plan.errors, options.path);
  return {
    valid: errors.length === 0,
    errors,
    warnings: sorted([...loaded.warnings, ...plan.warnings], options.path),
    steps: errors.length === 0 ? plan.steps : [],
    variables: plan.variables,
    skipped: plan.skipped,
  };
}

/** The pipeline file's problems first, then each included file's; in each, top to bottom. */
function sorted(problems: FileProblem[], top: string): FileProblem[] {
  const fileOrder = new Map<string, number>([[top, 0]]);
  for (const p of problems) if (!fileOrder.has(p.file)) fileOrder.set(p.file, fileOrder.size);
  return [...problems].sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line || a.column - b.column);
}
