/** Artifacts and caches as the API shows them (TypeBox: validators, types and OpenAPI from one source). */
import { Type } from 'typebox';
import { Nullable } from './common.js';

export const ArtifactSchema = Type.Object({
  id: Type.Integer(),
  run_id: Type.Integer({ description: 'The run that stored it (for a retry, the original run when the step was reused)' }),
  step_id: Nullable(Type.Integer()),
  name: Type.String(),
  status: Type.Union([Type.Literal('stored'), Type.Literal('failed')]),
  file_count: Type.Integer(),
  size_bytes: Type.Integer(),
  refused: Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }), {
    description: 'Matched paths not stored, and why (links are never followed)',
  }),
  error: Nullable(Type.String({ description: 'Why a failed artifact was not stored' })),
  expires_at: Nullable(Type.String({ format: 'date-time' })),
  created_at: Type.String({ format: 'date-time' }),
  download_url: Type.String({ description: 'The whole artifact as a .tar.gz' }),
  files: Type.Array(
    Type.Object({
      path: Type.String({ description: "The file's path in the workspace (and in the archive)" }),
      size_bytes: Type.Integer(),
      sha256: Type.String(),
      url: Type.String({ description: 'This file alone (GET …/files/{path})' }),
    }),
    { description: 'Its files by path, the first 1000 (`file_count` is the total; the archive holds all); empty when not stored' },
  ),
});

export const ArtifactListSchema = Type.Object({ count: Type.Integer(), results: Type.Array(ArtifactSchema) });

export const ArtifactParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), artifact_id: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

export const ArtifactFileParams = Type.Object(
  {
    id: Type.Integer({ minimum: 1, maximum: 2147483647 }),
    artifact_id: Type.Integer({ minimum: 1, maximum: 2147483647 }),
    '*': Type.String({ minLength: 1, maxLength: 4096, description: "The file's path inside the artifact" }),
  },
  { additionalProperties: false },
);

/** The same parameters as the OpenAPI document names them: an OpenAPI path template has no `{*}`, so the wildcard is `{path}`. */
export const ArtifactFileParamsDocumented = Type.Object(
  {
    id: ArtifactFileParams.properties.id,
    artifact_id: ArtifactFileParams.properties.artifact_id,
    path: Type.String({ minLength: 1, maxLength: 4096, description: "The file's path inside the artifact (its slashes may stay as they are)" }),
  },
  { additionalProperties: false },
);

export const CacheSchema = Type.Object({
  id: Type.Integer(),
  scope: Type.String({
    description: '`branch-<name>` (readable by the branch and, for the default branch, every run) or `pr-<number>` (that pull request only)',
  }),
  key: Type.String(),
  size_bytes: Type.Integer(),
  entries: Type.Integer(),
  hits: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
});

export const CachesSchema = Type.Object({
  count: Type.Integer(),
  total_bytes: Type.Integer(),
  stats: Type.Object({
    lookups: Type.Integer(),
    exact_hits: Type.Integer(),
    partial_hits: Type.Integer({ description: 'Restored from a restore key, not the exact key' }),
    hit_rate: Nullable(Type.Number({ description: 'Hits (exact and partial) per lookup; null before the first lookup' })),
  }),
  results: Type.Array(CacheSchema),
});

export const CacheParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), cache_id: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

export const DeletedSchema = Type.Object({ deleted: Type.Integer() });
