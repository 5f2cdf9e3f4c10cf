/**
 * Reads the pipeline file and everything it includes, depth first, through the FileSource port.
 * A file's includes come before the file itself in the result, which is the order their steps
 * join the plan. A file included twice (two templates sharing one) is read once; a file that
 * includes itself, directly or not, is a cycle; nesting is limited; a file that fails its schema
 * is reported and its includes are not followed.
 */
import { branchNameProblem, gitUrlCredentialProblem, gitUrlProblem, redactGitUrl, type GitUrlPolicy } from '../git-url.js';
import { relativePathProblem } from '../validate-steps.js';
import { checkSchema } from './check-schema.js';
import { formatPath, type Segment } from './field-path.js';
import type { Include, PipelineFile } from './schema.js';
import { IncludeNotAvailableError, type FileProblem, type FileRef, type FileSource } from './types.js';
import { loadYaml, type LoadedYaml } from './yaml-document.js';

export const DEFAULT_MAX_INCLUDE_DEPTH = 5;
/** However the includes fan out, a plan reads at most this many files. */
export const MAX_FILES = 50;

export interface SourceFile {
  ref: FileRef;
  /** How problems name the file: its path, or `repository@ref:path` for another repository. */
  label: string;
  yaml: LoadedYaml;
  data: PipelineFile;
  depth: number;
}

export interface LoadedFiles {
  files: SourceFile[];
  errors: FileProblem[];
  warnings: FileProblem[];
  /** Some include was not read (a lint without a repository): names it would bring are unknown. */
  unresolved: boolean;
}

export interface LoadOptions {
  path: string;
  source?: FileSource | undefined;
  maxIncludeDepth?: number | undefined;
  gitPolicy?: GitUrlPolicy | undefined;
}

export async function loadFiles(content: string, options: LoadOptions): Promise<LoadedFiles> {
  const out: LoadedFiles = { files: [], errors: [], warnings: [], unresolved: false };
  const maxDepth = options.maxIncludeDepth ?? DEFAULT_MAX_INCLUDE_DEPTH;
  const policy = options.gitPolicy ?? { allowLocal: false };
  const read = new Set<string>();

  const visit = async (text: string, ref: FileRef, label: string, depth: number, chain: { key: string; label: string }[]) => {
    const yaml = loadYaml(text, label);
    const at = (segments: Segment[], message: string, where: 'key' | 'value' = 'value'): FileProblem => ({
      file: label,
      path: formatPath(segments),
      ...yaml.locate(segments, where),
      message,
    });
    out.errors.push(...yaml.errors);
    out.warnings.push(...yaml.warnings);
    if (yaml.value === undefined) return;
    const schemaProblems = checkSchema(yaml.value);
    if (schemaProblems.length > 0) {
      out.errors.push(...schemaProblems.map((p) => at(p.segments, p.message, p.at)));
      return;
    }
    const data = yaml.value as PipelineFile;
    if (depth > 0 && data.when !== undefined)
      out.errors.push(at(['when'], '"when" belongs to the pipeline file: an included file cannot skip the pipeline (give its steps a "when").', 'key'));

    for (const [i, entry] of (data.include ?? []).entries()) {
      const resolved = resolveInclude(entry, ref, policy);
      if ('problems' in resolved) {
        for (const p of resolved.problems) out.errors.push(at(['include', i, ...p.segments], p.message));
        continue;
      }
      const target = resolved.ref;
      const key = refKey(target);
      const targetLabel = labelOf(target);
      const cycle = chain.findIndex((c) => c.key === key);
      if (cycle !== -1) {
        const names = [...chain.slice(cycle).map((c) => c.label), targetLabel].join(' → ');
        out.errors.push(at(['include', i], `These files include each other: ${names}.`));
        continue;
      }
      if (read.has(key)) continue;
      if (depth + 1 > maxDepth) {
        out.errors.push(at(['include', i], `Includes may nest at most ${maxDepth} deep; ${targetLabel} would be ${depth + 1} deep.`));
        continue;
      }
      if (read.size >= MAX_FILES) {
        out.errors.push(at(['include', i], `A pipeline may read at most ${MAX_FILES} files.`));
        continue;
      }
      if (!options.source) {
        out.unresolved = true;
        out.warnings.push(at(['include', i], `${targetLabel} was not read: includes are read from the repository when a run starts.`));
        continue;
      }
      let included: string;
      try {
        included = await options.source.read(target);
      } catch (thrown) {
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        if (thrown instanceof IncludeNotAvailableError) {
          out.unresolved = true;
          out.warnings.push(at(['include', i], `${targetLabel} was not read: ${message}`));
        } else out.errors.push(at(['include', i], `${targetLabel} cannot be read: ${message}`));
        continue;
      }
      read.add(key);
      await visit(included, target, targetLabel, depth + 1, [...chain, { key, label: targetLabel }]);
    }
    out.files.push({ ref, label, yaml, data, depth });
  };

  const top: FileRef = { repository: null, ref: null, path: options.path };
  read.add(refKey(top));
  await visit(content, top, options.path, 0, [{ key: refKey(top), label: options.path }]);
  return out;
}

const refKey = (ref: FileRef) => JSON.stringify([ref.repository, ref.ref, ref.path]);

export const labelOf = (ref: FileRef) => (ref.repository === null ? ref.path : `${redactGitUrl(ref.repository)}@${ref.ref ?? ''}:${ref.path}`);

type Resolved = { ref: FileRef } | { problems: { segments: Segment[]; message: string }[] };

/** An include entry as a FileRef: the same repository (and ref) as the including file unless it names another. */
function resolveInclude(entry: Include, from: FileRef, policy: GitUrlPolicy): Resolved {
  const spec = typeof entry === 'string' ? { path: entry } : entry;
  const problems: { segments: Segment[]; message: string }[] = [];
  const field = (name: string) => (typeof entry === 'string' ? [] : [name]);
  const path = spec.path.replace(/^(\.\/)+/, '');
  const pathProblem = path === '' ? 'Name a file.' : relativePathProblem(path);
  if (pathProblem) problems.push({ segments: field('path'), message: pathProblem });

  if (spec.repository === undefined) {
    if (spec.ref !== undefined)
      problems.push({ segments: ['ref'], message: 'A file of this repository is read at the same commit: "ref" goes with "repository".' });
    if (problems.length > 0) return { problems };
    return { ref: { repository: from.repository, ref: from.ref, path, ...(from.credential ? { credential: from.credential } : {}) } };
  }
  const urlProblem = gitUrlProblem(spec.repository, policy) ?? gitUrlCredentialProblem(spec.repository);
  if (urlProblem) problems.push({ segments: ['repository'], message: `${urlProblem}.` });
  if (spec.ref === undefined) problems.push({ segments: ['ref'], message: 'A file of another repository must be pinned to a ref (a tag, branch or commit).' });
  else {
    const refProblem = branchNameProblem(spec.ref);
    if (refProblem) problems.push({ segments: ['ref'], message: `${refProblem.replace(/^Branch/, 'Ref')}.` });
  }
  if (problems.length > 0) return { problems };
  return { ref: { repository: spec.repository, ref: spec.ref!, path, ...(spec.credential ? { credential: spec.credential } : {}) } };
}
