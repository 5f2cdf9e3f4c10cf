/** `ansflow lint` as a real process on real files in a real git working copy. */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function lint(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'lint', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('ansflow lint', () => {
  let repo: string;
  before(() => {
    repo = mkdtempSync(join(tmpdir(), 'ansflow-lint-'));
    execFileSync('git', ['init', '-q', repo]);
    mkdirSync(join(repo, 'ci'));
    mkdirSync(join(repo, 'sub'));
    writeFileSync(join(repo, 'ci', 'common.yml'), lines('steps:', '  - { name: setup, run: ./setup }'));
    writeFileSync(join(repo, 'ci', 'broken.yml'), lines('steps:', '  - name: bad', '    run: x', '    retries: lots'));
    writeFileSync(join(repo, '.ansflow.yml'), lines('include: [ci/common.yml]', 'steps:', '  - name: build', '    run: make', '    needs: [setup]'));
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  test('a valid .ansflow.yml in the current folder (the default), its includes read from the working copy: exit 0', async () => {
    const r = await lint([], repo);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '.ansflow.yml: valid, 2 steps planned\n');
  });

  test('problems print as file:line:column path: message, in the included file too; exit 1', async () => {
    writeFileSync(join(repo, 'bad.yml'), lines('include: [ci/broken.yml]', 'steps:', '  - name: a', '    run: x', '    needs: [ghost]'));
    // Run from a subfolder: the root is git's top level, so ci/broken.yml is found from there.
    const included = await lint(['../bad.yml'], join(repo, 'sub'));
    assert.equal(included.code, 1);
    assert.equal(included.stdout, 'ci/broken.yml:4:14 steps[0].retries: Must be a whole number.\nbad.yml: 1 problem\n');
    writeFileSync(join(repo, 'bad.yml'), lines('steps:', '  - name: a', '    run: x', '    needs: [ghost]', '  - name: b', '    colour: red'));
    const own = await lint([join(repo, 'bad.yml')], '/');
    assert.equal(own.code, 1);
    // A file that fails its schema is not planned: the graph (needs: [ghost]) is checked once the schema passes.
    assert.equal(own.stdout, 'bad.yml:6:5 steps[1].colour: Unknown field "colour".\nbad.yml: 1 problem\n');
  });

  test('YAML errors are located too', async () => {
    writeFileSync(join(repo, 'syntax.yml'), lines('steps:', '  - name: a', '   run: x'));
    const r = await lint(['syntax.yml'], repo);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'syntax.yml:3:1 YAML: Sequence item without - indicator\nsyntax.yml: 1 problem\n');
  });

  test('another repository is not fetched: a warning, and the file stays valid', async () => {
    writeFileSync(
      join(repo, 'remote.yml'),
      lines('include:', '  - { repository: "https://git.example.com/t.git", ref: v1, path: x.yml }', 'steps: [{ name: a, run: x }]'),
    );
    const r = await lint(['remote.yml'], repo);
    assert.equal(r.code, 0, r.stdout);
    assert.match(
      r.stdout,
      /^remote\.yml:2:5 include\[0\]: warning: https:\/\/git\.example\.com\/t\.git@v1:x\.yml was not read: files of other repositories are read when a run starts/,
    );
  });

  test('an include that leads outside the repository through a symbolic link is refused', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ansflow-outside-'));
    writeFileSync(join(outside, 'secret.yml'), 'steps: [{ name: s, run: x }]\n');
    symlinkSync(join(outside, 'secret.yml'), join(repo, 'ci', 'link.yml'));
    writeFileSync(join(repo, 'link.yml'), lines('include: [ci/link.yml]', 'steps: [{ name: a, run: x }]'));
    const r = await lint(['link.yml'], repo);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'link.yml:1:11 include[0]: ci/link.yml cannot be read: it is outside the repository\nlink.yml: 1 problem\n');
    rmSync(outside, { recursive: true, force: true });
  });

  test('a missing file is exit 2 with the reason', async () => {
    const r = await lint(['nope.yml'], repo);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ansflow lint: cannot read .*nope\.yml/);
  });
});
