import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateFolder, writePrivateFile } from './private-files.js';
import { materialiseStepCredential } from './step-credential.js';

function withHome(fn: (home: string, elsewhere: string) => Promise<void>) {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'ansflow-private-'));
    const home = join(root, 'home');
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(home);
    mkdirSync(elsewhere);
    try {
      await fn(home, elsewhere);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

test(
  'folders are 0700 and files 0600, created fresh',
  withHome(async (home) => {
    const dir = await privateFolder(home, ['.ansflow', 'credentials', '7'], undefined, { fresh: true });
    await writePrivateFile(join(dir, 'f'), 'x', undefined);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'f')).mode & 0o777, 0o600);
    await assert.rejects(writePrivateFile(join(dir, 'f'), 'y', undefined), /EEXIST/, 'never written over an existing file');
  }),
);

test(
  'a symlink an earlier step left where the step folder goes is removed, not followed',
  withHome(async (home, elsewhere) => {
    mkdirSync(join(home, '.ansflow', 'credentials'), { recursive: true });
    symlinkSync(elsewhere, join(home, '.ansflow', 'credentials', '9'));
    const given = await materialiseStepCredential({
      credential: { name: 'f', secret: { kind: 'secret_file', value: { content: 'secret-content' } } },
      home,
      stepId: 9,
    });
    const folder = join(home, '.ansflow', 'credentials', '9');
    assert.ok(!lstatSync(folder).isSymbolicLink());
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing was written through the link');
    await given.remove();
    assert.ok(!existsSync(folder));
  }),
);

test(
  'a symlink or a file in place of a parent folder is refused, saying so',
  withHome(async (home, elsewhere) => {
    symlinkSync(elsewhere, join(home, '.ansflow'));
    await assert.rejects(privateFolder(home, ['.ansflow', 'credentials', '1'], undefined, { fresh: true }), /\$HOME\/\.ansflow is not a folder/);
    assert.deepEqual(readdirSync(elsewhere), []);
    rmSync(join(home, '.ansflow'));
    writeFileSync(join(home, '.ansflow'), 'a file');
    await assert.rejects(privateFolder(home, ['.ansflow', 'git', '1'], undefined), /is not a folder/);
  }),
);

test(
  'a planted symlink at a file name is never written through',
  withHome(async (home, elsewhere) => {
    const dir = await privateFolder(home, ['d'], undefined);
    symlinkSync(join(elsewhere, 'target'), join(dir, 'id_key'));
    await assert.rejects(writePrivateFile(join(dir, 'id_key'), 'key', undefined), /EEXIST|ELOOP/);
    assert.ok(!existsSync(join(elsewhere, 'target')));
  }),
);
