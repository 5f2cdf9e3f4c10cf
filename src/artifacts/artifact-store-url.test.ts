import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArtifactStoreUrl } from './artifact-store-url.js';

test('empty means the data folder; file: another folder; s3: a bucket and prefix', () => {
  assert.deepEqual(parseArtifactStoreUrl(undefined, '/data/artifacts'), { kind: 'filesystem', path: '/data/artifacts' });
  assert.deepEqual(parseArtifactStoreUrl('  ', '/d'), { kind: 'filesystem', path: '/d' });
  assert.deepEqual(parseArtifactStoreUrl('file:///srv/ansflow-artifacts', '/d'), { kind: 'filesystem', path: '/srv/ansflow-artifacts' });
  assert.deepEqual(parseArtifactStoreUrl('s3://ci-artifacts', '/d'), { kind: 's3', bucket: 'ci-artifacts', prefix: '' });
  assert.deepEqual(parseArtifactStoreUrl('s3://ci.artifacts/ansflow/prod/', '/d'), { kind: 's3', bucket: 'ci.artifacts', prefix: 'ansflow/prod' });
});

test('bad settings are refused with the setting named and the reason', () => {
  const cases: [string, RegExp][] = [
    ['not a url', /not a URL/],
    ['http://example.com/x', /scheme http: is not supported/],
    ['s3://AKIA:secret@bucket/p', /not in the URL/],
    ['s3://Bad_Bucket/p', /not a valid bucket name/],
    ['s3://bucket/a/../b', /only s3:\/\/bucket\/prefix|not allowed/],
    ['s3://bucket/p?region=x', /only s3:\/\/bucket\/prefix/],
    ['s3://bucket/%2e%2e/x', /not allowed/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseArtifactStoreUrl(value, '/d'),
      (error: Error) => {
        assert.match(error.message, /^ANSFLOW_ARTIFACTS_URL=/, value);
        assert.match(error.message, message, value);
        return true;
      },
    );
  }
});
