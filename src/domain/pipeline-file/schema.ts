/**
 * The pipeline file's format as TypeBox schemas: the one source of the file's validator, its
 * published JSON Schema (json-schema.ts) and its types. A file step takes every field of a stored
 * step (domain/pipeline.ts) and adds the file's own: `run:`, `matrix:` and the plan-time `when`.
 */
import { Type, type Static } from 'typebox';
import { MAX_STEPS, StepDefinitionSchema } from '../pipeline.js';
import { MAX_VARIABLE_VALUE_LENGTH, MAX_VARIABLES } from '../variables.js';
import { PLAN_EVENTS } from './types.js';

export const MAX_MATRIX_CELLS = 256;
export const MAX_INCLUDES_PER_FILE = 20;

/** YAML writes `22` and `true` unquoted: variables take them as the text they were written as. */
const Scalar = Type.Union([Type.String({ maxLength: MAX_VARIABLE_VALUE_LENGTH }), Type.Number(), Type.Boolean()]);
const VariableMap = (description: string) => Type.Record(Type.String(), Scalar, { maxProperties: MAX_VARIABLES, description });

const OneOrMany = (item: ReturnType<typeof Type.String>, description: string) =>
  Type.Union([item, Type.Array(item, { minItems: 1, maxItems: 100 })], { description });

const Event = Type.Union([Type.Literal('push'), Type.Literal('pull_request'), Type.Literal('tag'), Type.Literal('manual')]);

const Glob = Type.String({ minLength: 1, maxLength: 500 });

const planTimeConditions = {
  branch: Type.Optional(
    OneOrMany(
      Type.String({ minLength: 1, maxLength: 255 }),
      'Branch globs (`main`, `release/*`, `feature/**`); for a pull request its target branch, for a tag its name',
    ),
  ),
  event: Type.Optional(Type.Union([Event, Type.Array(Event, { minItems: 1 })], { description: PLAN_EVENTS.join(', ') })),
  paths: Type.Optional(OneOrMany(Glob, 'Run only when a changed file matches one of these globs (`src/**`, `*.md`)')),
  paths_ignore: Type.Optional(OneOrMany(Glob, 'Changed files matching these globs do not count')),
};

/** `when:` of the whole file: decided before the run; a file it excludes runs nothing. */
export const FileWhenSchema = Type.Object(planTimeConditions, { additionalProperties: false });
export type FileWhen = Static<typeof FileWhenSchema>;

/** `when:` of a step: the file's conditions, plus `status`, which is decided during the run. */
export const FileStepWhenSchema = Type.Object(
  { ...planTimeConditions, status: StepDefinitionSchema.properties.when.properties.status },
  { additionalProperties: false },
);
export type FileStepWhen = Static<typeof FileStepWhenSchema>;

const MatrixCell = Type.Record(Type.String(), Scalar, { minProperties: 1 });

/** Axes (any other key) of values, plus cells to add (`include`) and to remove (`exclude`). */
export const MatrixSchema = Type.Object(
  {
    include: Type.Optional(Type.Array(MatrixCell, { maxItems: MAX_MATRIX_CELLS, description: 'Cells to add (exact combinations)' })),
    exclude: Type.Optional(
      Type.Array(MatrixCell, { maxItems: MAX_MATRIX_CELLS, description: 'Cells to remove: every cell whose values match all the given ones' }),
    ),
  },
  {
    additionalProperties: Type.Array(Scalar, { minItems: 1, maxItems: MAX_MATRIX_CELLS }),
    minProperties: 1,
    description: `Each key other than include/exclude is an axis (a variable name) with its values; every combination is a step of its own, at most ${MAX_MATRIX_CELLS}`,
  },
);
export type Matrix = Static<typeof MatrixSchema>;

const stored = StepDefinitionSchema.properties;

export const FileStepSchema = Type.Object(
  {
    ...stored,
    type: Type.Optional(stored.type),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    run: Type.Optional(Type.String({ minLength: 1, description: 'Short for `type: shell_command` with `config.command`' })),
    env: Type.Optional(VariableMap("This step's variables")),
    when: Type.Optional(FileStepWhenSchema),
    matrix: Type.Optional(MatrixSchema),
  },
  { additionalProperties: false },
);
export type FileStep = Static<typeof FileStepSchema>;

export const IncludeSchema = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 500, description: 'A file of this repository at the same commit' }),
    Type.Object(
      {
        path: Type.String({ minLength: 1, maxLength: 500 }),
        repository: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Another repository (then `ref` is required)' })),
        ref: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The tag, branch or commit the other repository is pinned to' })),
        credential: Type.Optional(stored.credential),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'A file whose steps and variables join this one' },
);
export type Include = Static<typeof IncludeSchema>;

export const PipelineFileSchema = Type.Object(
  {
    variables: Type.Optional(VariableMap('Variables of every step')),
    include: Type.Optional(Type.Array(IncludeSchema, { maxItems: MAX_INCLUDES_PER_FILE })),
    when: Type.Optional(FileWhenSchema),
    steps: Type.Optional(Type.Array(FileStepSchema, { maxItems: MAX_STEPS })),
  },
  { additionalProperties: false },
);
export type PipelineFile = Static<typeof PipelineFileSchema>;
