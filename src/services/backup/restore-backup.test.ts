import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { restoreBackup, RestoreRefused } from './restore-backup.js';
import { BACKUP_FORMAT, BACKUP_VERSION } from './backup-manifest.js';

const manifest = JSON.stringify({
  format: BACKUP_FORMAT,
  version: BACKUP_VERSION,
  created_at: 'x',
  database: 'postgres',
  migrations: [],
  counts: {},
  files: 0,
});

async function archive(root: string, files: (dir: string) => string[]): Promise<string> {
  const src = mkdtempSync(join(root, 'src-'));
  const entries = files(src);
  const file = join(root, `a-${Math.random()}.tar.gz`);
  await createTar({ gzip: true, file, cwd: src }, entries);
  return file;
}

describe('restore of an untrusted archive', () => {
  test('a link, a name no backup writes, a missing manifest or key: refused, and the data folder is not made', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ansflow-restore-'));
    try {
      const cases: Array<[string, (dir: string) => string[], RegExp]> = [
        [
          'symlink',
          (dir) => {
            writeFileSync(join(dir, 'manifest.json'), manifest);
            writeFileSync(join(dir, 'secret.key'), 'k\n');
            mkdirSync(join(dir, 'logs'));
            symlinkSync('/etc/passwd', join(dir, 'logs', 'passwd'));
            return ['manifest.json', 'secret.key', 'logs'];
          },
          /entries no backup writes \(logs\/passwd\)/,
        ],
        [
          'other name',
          (dir) => {
            writeFileSync(join(dir, 'manifest.json'), manifest);
            writeFileSync(join(dir, 'secret.key'), 'k\n');
            writeFileSync(join(dir, '.bashrc'), 'evil');
            return ['manifest.json', 'secret.key', '.bashrc'];
          },
          /entries no backup writes \(\.bashrc\)/,
        ],
        [
          'no manifest',
          (dir) => {
            writeFileSync(join(dir, 'secret.key'), 'k\n');
            return ['secret.key'];
          },
          /no manifest\.json/,
        ],
        [
          'no key',
          (dir) => {
            writeFileSync(join(dir, 'manifest.json'), manifest);
            return ['manifest.json'];
          },
          /has no secret key/,
        ],
        [
          'another format',
          (dir) => {
            writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'other' }));
            return ['manifest.json'];
          },
          /not an AnsFlow backup/,
        ],
      ];
      for (const [name, files, reason] of cases) {
        const file = await archive(root, files);
        const target = join(root, `data-${name.replace(/ /g, '-')}`);
        await assert.rejects(restoreBackup(file, target), (e: unknown) => e instanceof RestoreRefused && reason.test(e.message), name);
        assert.ok(!existsSync(target), `${name}: no data folder made`);
      }
      const good = await archive(root, (dir) => {
        writeFileSync(join(dir, 'manifest.json'), manifest);
        writeFileSync(join(dir, 'secret.key'), 'k\n');
        return ['manifest.json', 'secret.key'];
      });
      await restoreBackup(good, join(root, 'data-good'));
      assert.ok(existsSync(join(root, 'data-good', 'secret.key')));
      await assert.rejects(restoreBackup(good, join(root, 'data-good')), /is not empty/);
      await assert.rejects(restoreBackup(join(root, 'missing.tar.gz'), join(root, 'data-missing')), /is not a file/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
