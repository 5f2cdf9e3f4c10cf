/**
 * Where artifacts are stored, from one setting (`ANSFLOW_ARTIFACTS_URL`): empty for the data
 * folder, `file:///path` for another folder, `s3://bucket/prefix` for S3-compatible storage (with
 * `ANSFLOW_S3_ENDPOINT`, `ANSFLOW_S3_REGION`, `ANSFLOW_S3_FORCE_PATH_STYLE` and keys beside it).
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ArtifactStoreSetting = { kind: 'filesystem'; path: string } | { kind: 's3'; bucket: string; prefix: string };

// S3's own bucket naming rules (lower case, digits, dots and hyphens, 3 to 63 characters).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** Parses the setting; throws a message that names the setting and what is wrong with it. */
export function parseArtifactStoreUrl(value: string | undefined, defaultPath: string): ArtifactStoreSetting {
  const raw = (value ?? '').trim();
  if (raw === '') return { kind: 'filesystem', path: defaultPath };
  const fail = (why: string) => new Error(`ANSFLOW_ARTIFACTS_URL=${JSON.stringify(raw)}: ${why}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail('not a URL (use file:///absolute/folder or s3://bucket/prefix)');
  }
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    if (!isAbsolute(path)) throw fail('the folder must be absolute');
    return { kind: 'filesystem', path };
  }
  if (url.protocol === 's3:') {
    if (url.username || url.password) throw fail('put keys in ANSFLOW_S3_ACCESS_KEY_ID / ANSFLOW_S3_SECRET_ACCESS_KEY, not in the URL');
    if (url.search || url.hash || url.port) throw fail('only s3://bucket/prefix is understood');
    if (!BUCKET.test(url.hostname)) throw fail(`${JSON.stringify(url.hostname)} is not a valid bucket name`);
    // Segments from the text as written: URL parsing would quietly resolve `a/../b` to `b`.
    const segments = raw
      .slice('s3://'.length)
      .split('/')
      .slice(1)
      .filter((s) => s !== '');
    for (const segment of segments) if (!PREFIX_SEGMENT.test(segment)) throw fail(`prefix segment ${JSON.stringify(segment)} is not allowed`);
    return { kind: 's3', bucket: url.hostname, prefix: segments.join('/') };
  }
  throw fail(`scheme ${url.protocol} is not supported (file: or s3:)`);
}
