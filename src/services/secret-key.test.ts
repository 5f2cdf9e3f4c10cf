import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PREVIOUS_KEYS_FILE, beginDataDirRotation, dataDirKeySource, finishDataDirRotation } from './secret-key.js';

test('a data folder key source notices each step of a rotation, and nothing when nothing changed', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-secret-key-'));
  try {
    const source = dataDirKeySource(dataDir);
    const first = source.load();
    assert.deepEqual(first.previous, []);
    // The previous-keys file is missing: asking again and again is no change.
    assert.equal(source.changed(), false);
    assert.equal(source.changed(), false);

    const { keys } = beginDataDirRotation(dataDir);
    assert.equal(source.changed(), true);
    assert.deepEqual(source.load(), keys);
    assert.equal(source.changed(), false);

    finishDataDirRotation(dataDir);
    assert.equal(source.changed(), true);
    assert.deepEqual(source.load(), { current: keys.current, previous: [] });
    assert.equal(source.changed(), false);

    // A previous-keys file written by another process (a rotation begun elsewhere) is a change too.
    writeFileSync(join(dataDir, PREVIOUS_KEYS_FILE), first.current + '\n', { mode: 0o600 });
    assert.equal(source.changed(), true);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
