/**
 * A real S3-protocol server for tests: s3rver, on a loopback port, storing in a temporary folder,
 * with one bucket made. It speaks the S3 REST protocol (multipart uploads, ranges, listings) and
 * refuses unknown access keys; it does not recompute V4 signatures, so a wrong secret goes unnoticed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

export interface S3Server {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'ansflow-test'): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'ansflow-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    // s3rver's fixed account; it rejects requests signed with anything else.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
