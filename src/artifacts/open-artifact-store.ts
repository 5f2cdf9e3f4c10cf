/**
 * Opens the configured ArtifactStore. The S3 adapter (and the AWS SDK behind it) is loaded only
 * when configured, so an installation on the data folder never pays for it at start-up.
 */
import type { ArtifactStore } from './artifact-store.js';
import type { ArtifactStoreSetting } from './artifact-store-url.js';
import { FsArtifactStore } from './fs-artifact-store.js';

export interface S3Settings {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export async function openArtifactStore(setting: ArtifactStoreSetting, s3: S3Settings = {}): Promise<ArtifactStore> {
  if (setting.kind === 'filesystem') return new FsArtifactStore(setting.path);
  const { S3ArtifactStore } = await import('./s3-artifact-store.js');
  return new S3ArtifactStore({
    bucket: setting.bucket,
    prefix: setting.prefix,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: s3.accessKeyId && s3.secretAccessKey ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } : undefined,
  });
}
