/**
 * The build-outputs part of the configuration (src/config.ts calls it): where artifacts, caches
 * and workspace snapshots are stored (ANSFLOW_ARTIFACTS_URL and the S3 settings beside it), and
 * the limits that keep them from filling it. docs/artifacts.md lists each setting.
 */
import { parseArtifactStoreUrl } from './artifacts/artifact-store-url.js';
import { parseSize } from './domain/sizes.js';

export interface OutputsConfig {
  /** ANSFLOW_ARTIFACTS_URL as given (null: `<data>/artifacts`); checked here, opened by runtime/artifact-store.ts. */
  artifactsUrl: string | null;
  s3: { endpoint?: string; region?: string; forcePathStyle?: boolean; accessKeyId?: string; secretAccessKey?: string };
  /** The most one artifact, and all artifacts of one run, may hold. */
  artifactMaxBytes: number;
  runArtifactsMaxBytes: number;
  /** The most one cache entry may hold (compressed), and all caches of the installation together (least recently used go first). */
  cacheMaxBytes: number;
  cacheBudgetBytes: number;
  /** Workspaces up to this size are snapshotted after each step a later step needs (for retries); null: never. */
  snapshotMaxBytes: number | null;
  /** Days an artifact is kept when its step does not say (`expire_in_days`); null: as long as its run. */
  artifactExpireDays: number | null;
}

type Env = Record<string, string | undefined>;

export function loadOutputsConfig(env: Env, problems: string[]): { outputs: OutputsConfig } {
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const size = (name: string, fallback: string, allowNone = false): number | null => {
    const raw = str(name) ?? fallback;
    if (allowNone && (raw === 'none' || raw === '0')) return null;
    const bytes = parseSize(raw);
    if (bytes === null) problems.push(`${name}="${raw}" must be a size such as 512m or 2g${allowNone ? ', or none' : ''}`);
    return bytes;
  };
  const artifactsUrl = str('ANSFLOW_ARTIFACTS_URL');
  try {
    parseArtifactStoreUrl(artifactsUrl ?? undefined, '/');
  } catch (error) {
    problems.push((error as Error).message);
  }
  const forcePathStyle = str('ANSFLOW_S3_FORCE_PATH_STYLE');
  if (forcePathStyle !== null && !['true', 'false'].includes(forcePathStyle))
    problems.push(`ANSFLOW_S3_FORCE_PATH_STYLE="${forcePathStyle}" must be true or false`);
  const accessKeyId = str('ANSFLOW_S3_ACCESS_KEY_ID');
  const secretAccessKey = str('ANSFLOW_S3_SECRET_ACCESS_KEY');
  if ((accessKeyId === null) !== (secretAccessKey === null))
    problems.push('ANSFLOW_S3_ACCESS_KEY_ID and ANSFLOW_S3_SECRET_ACCESS_KEY are set together or not at all');
  const endpoint = str('ANSFLOW_S3_ENDPOINT');
  if (endpoint !== null && !/^https?:\/\//.test(endpoint)) problems.push('ANSFLOW_S3_ENDPOINT must be a URL starting with http:// or https://');
  const expireRaw = str('ANSFLOW_ARTIFACT_EXPIRE_DAYS');
  let artifactExpireDays: number | null = null;
  if (expireRaw !== null && expireRaw !== '0') {
    if (!/^\d{1,5}$/.test(expireRaw)) problems.push(`ANSFLOW_ARTIFACT_EXPIRE_DAYS="${expireRaw}" must be a number of days (0: as long as the run)`);
    else artifactExpireDays = Number(expireRaw);
  }
  const region = str('ANSFLOW_S3_REGION');
  return {
    outputs: {
      artifactsUrl,
      s3: {
        ...(endpoint !== null && { endpoint }),
        ...(region !== null && { region }),
        ...(forcePathStyle !== null && { forcePathStyle: forcePathStyle === 'true' }),
        ...(accessKeyId !== null && secretAccessKey !== null && { accessKeyId, secretAccessKey }),
      },
      artifactMaxBytes: size('ANSFLOW_ARTIFACT_MAX_SIZE', '1g') ?? 1024 ** 3,
      runArtifactsMaxBytes: size('ANSFLOW_RUN_ARTIFACTS_MAX_SIZE', '5g') ?? 5 * 1024 ** 3,
      cacheMaxBytes: size('ANSFLOW_CACHE_MAX_SIZE', '2g') ?? 2 * 1024 ** 3,
      cacheBudgetBytes: size('ANSFLOW_CACHE_BUDGET', '20g') ?? 20 * 1024 ** 3,
      snapshotMaxBytes: size('ANSFLOW_SNAPSHOT_MAX_SIZE', '1g', true),
      artifactExpireDays,
    },
  };
}
