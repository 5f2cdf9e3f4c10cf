/**
 * `ansflow lint [FILE]`: checks a pipeline file offline with the validator a run uses. Files of
 * the same repository that it includes are read from the working copy (the repository root is
 * git's top level, or --root); files of other repositories are not fetched: they are warnings.
 */
import { execFileSync } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { parseOptions } from './options.js';
import { CliError } from './cli-error.js';
import { IncludeNotAvailableError, parsePipelineFile, type FileProblem, type FileSource } from '../domain/pipeline-file/index.js';

const HELP = `Usage: ansflow lint [FILE] [--root DIR]

Checks a pipeline file (default .ansflow.yml) and prints each problem as
  file:line:column path: message
Exit status: 0 valid, 1 problems found, 2 the file cannot be read.

Options:
  --root DIR   the repository root that includes are read from (default: git's top level, else FILE's folder)`;

export async function lintCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { root: { type: 'string' } }, HELP, true);
  if (!parsed) return 0;
  if (parsed.positionals.length > 1) throw new CliError(`lint takes one file\n\n${HELP}`);
  const file = resolve(parsed.positionals[0] ?? '.ansflow.yml');
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const root = await realpath(parsed.values.root ? resolve(parsed.values.root) : (gitTopLevel(dirname(file)) ?? dirname(file)));
  const path = relative(root, await realpath(file));
  if (path.startsWith('..') || isAbsolute(path)) throw new CliError(`${file} is not inside the repository root ${root}`);

  const result = await parsePipelineFile(content, { path, source: workingCopySource(root), gitPolicy: { allowLocal: true } });
  for (const p of result.errors) console.log(format(p));
  for (const p of result.warnings) console.log(format(p, 'warning: '));
  if (!result.valid) {
    console.log(`${path}: ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}`);
    return 1;
  }
  console.log(`${path}: valid, ${result.steps.length} step${result.steps.length === 1 ? '' : 's'} planned`);
  return 0;
}

const format = (p: FileProblem, prefix = '') => `${p.file}:${p.line}:${p.column} ${p.path ? `${p.path}: ` : ''}${prefix}${p.message}`;

function gitTopLevel(dir: string): string | null {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** Includes of this repository from the working copy, never outside the root (symbolic links included). */
function workingCopySource(root: string): FileSource {
  return {
    async read(ref) {
      if (ref.repository !== null) throw new IncludeNotAvailableError('files of other repositories are read when a run starts, not by an offline lint');
      const target = await realpath(resolve(root, ref.path));
      if (target !== root && !target.startsWith(root + sep)) throw new Error('it is outside the repository');
      return readFile(target, 'utf8');
    },
  };
}
