/**
 * The pipeline file's public types: what the parser is given (the file, a way to read included
 * files, the event it plans for) and what it answers (located problems, or a plan).
 */
import type { LeftOutStep, PlanConditions, StepDefinition } from '../pipeline.js';
import type { GitUrlPolicy } from '../git-url.js';

/** A file to read: in the pipeline's own repository (`repository: null`) or in another one. */
export interface FileRef {
  /** null: the repository of the file that includes it (for the pipeline file: the pipeline's own). */
  repository: string | null;
  /** null: the commit being planned (the run's); otherwise the ref another repository is pinned to. */
  ref: string | null;
  /** Relative to the repository's root, without `./` or `..`. */
  path: string;
  /** The name of a credential that reads the other repository. */
  credential?: string;
}

/**
 * The port through which includes are read; the domain never touches files or the network.
 * Throw `IncludeNotAvailableError` when this source cannot read such a file at all (a lint with no
 * repository): that is a warning, not an error. Any other throw is an error of the file.
 */
export interface FileSource {
  read(ref: FileRef): Promise<string>;
}

export class IncludeNotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncludeNotAvailableError';
  }
}

export const PLAN_EVENTS = ['push', 'pull_request', 'tag', 'manual'] as const;
export type PlanEvent = (typeof PLAN_EVENTS)[number];

/** What the plan is for. Without a context (lint) no `when` is decided and every step is planned. */
export interface PlanContext {
  /** The pushed branch, the pull request's target branch, or the tag's name. */
  branch: string;
  event: PlanEvent;
  /** Files changed by the push or pull request; null or absent when unknown (then `paths` filters pass). */
  changedFiles?: readonly string[] | null;
}

/** One problem, where it is: `file` as the include names it, `path` the field (`steps[2].needs[0]`). */
export interface FileProblem {
  file: string;
  path: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

export interface ParseOptions {
  /** The pipeline file's path in its repository (`.ansflow.yml`): how problems name it. */
  path: string;
  source?: FileSource;
  context?: PlanContext;
  /** How deep includes may nest (the pipeline file is depth 0). Default 5. */
  maxIncludeDepth?: number;
  /** Which repository URLs an include may name (the server's policy). Default: remote only. */
  gitPolicy?: GitUrlPolicy;
  /**
   * The files changed by the push or pull request, asked for only when a file read filters by
   * `paths` or `paths_ignore` (working them out costs a git process on the run's path). Its
   * answer replaces `context.changedFiles`.
   */
  changedFiles?: () => Promise<readonly string[] | null>;
}

export interface PipelineFileResult {
  valid: boolean;
  errors: FileProblem[];
  /** What could not be checked here (an include lint cannot read); never makes the file invalid. */
  warnings: FileProblem[];
  /** The expanded plan (matrix cells, includes, `when` decided); empty when not valid or skipped. */
  steps: StepDefinition[];
  /** Plan-time `when` of the planned steps that have one, by planned step name. */
  conditions: Record<string, PlanConditions>;
  /** Steps `when` left out for this event, and why (empty without a context, as for lint). */
  left_out: LeftOutStep[];
  /** The file's `variables:` (with those of included files; the including file wins). */
  variables: Record<string, string>;
  /** Set when the file's own `when` excludes this event: nothing runs, and the forge hears why. */
  skipped: null | { reason: string };
}
