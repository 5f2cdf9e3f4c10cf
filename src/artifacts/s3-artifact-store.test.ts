/**
 * The S3 adapter passes the contract against a real S3-protocol server (s3rver, signatures
 * protocol); plus a store that is down or never answers: bounded time, a message naming the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { artifactStoreContract } from './artifact-store-contract.js';
import { S3ArtifactStore } from './s3-artifact-store.js';
import { startS3Server } from '../../test/support/s3-server.js';

artifactStoreContract('S3 (s3rver)', async () => {
  const server = await startS3Server();
  const store = new S3ArtifactStore({
    bucket: server.bucket,
    prefix: `t-${randomBytes(4).toString('hex')}`,
    endpoint: server.endpoint,
    credentials: server.credentials,
  });
  return {
    store,
    dispose: async () => {
      await store.close();
      await server.close();
    },
  };
});

test('S3 store: an unknown access key is refused by the server and reported with the store named', async () => {
  const server = await startS3Server();
  const store = new S3ArtifactStore({
    bucket: server.bucket,
    prefix: 'p',
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'wrong' },
  });
  try {
    await assert.rejects(store.put('a', Readable.from([Buffer.from('x')])), (error: Error) => {
      assert.match(error.message, new RegExp(`storing a in s3://${server.bucket}/p failed: .*InvalidAccessKeyId`));
      return true;
    });
  } finally {
    await store.close();
    await server.close();
  }
});

test('S3 store: a store that accepts connections but never answers fails in bounded time', async () => {
  // A TCP server that takes the connection and says nothing, like a hung proxy.
  const sockets = new Set<import('node:net').Socket>();
  const silent: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as import('node:net').AddressInfo).port;
  const store = new S3ArtifactStore({
    bucket: 'b',
    prefix: '',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    requestTimeoutMs: 500,
  });
  const started = Date.now();
  try {
    await assert.rejects(store.stat('a'), /looking up a in s3:\/\/b\/ failed/);
    // three attempts of 500 ms each, with the SDK's backoff between them
    assert.ok(Date.now() - started < 15_000, `bounded: ${Date.now() - started} ms`);
  } finally {
    await store.close();
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});

test('S3 store: nothing listening fails in bounded time with the store named', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const store = new S3ArtifactStore({
    bucket: 'b',
    prefix: 'x',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
  });
  try {
    const listing = async () => {
      for await (const _ of store.list('')) void _;
    };
    await assert.rejects(listing, /listing \(everything\) in s3:\/\/b\/x failed: .*ECONNREFUSED/);
  } finally {
    await store.close();
  }
});
