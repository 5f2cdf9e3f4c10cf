/**
 * The git processes a pipeline-file run starts on its way to the first step (each start is on the
 * trigger's path), counted at the mirrors' command port, against a real repository (git daemon)
 * and the real pipeline-file planner: a manual run fetches and reads its branch head in ONE
 * process; a push whose commit the mirror holds reads it without asking the server, through the
 * mirror's long-lived reader (started by the first such run, then none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planFromFile, type PipelineFilePlanner } from './plan-from-file.js';
import { RepositoryMirrors } from '../../engine/mirror/repository-mirrors.js';
import { spawnCommand, type CommandRunner } from '../../engine/launch/run-command.js';
import { spawnLongLived, type LongLivedRunner } from '../../engine/launch/long-lived-command.js';
import { parsePipelineFile } from '../../domain/pipeline-file/parse-pipeline-file.js';
import type { Run, RunTrigger } from '../../store/runs-repository.js';
import { createBareRepo, git, makeTempDir, startGitDaemon } from '../../../test/support/git-fixtures.js';

const policy = { allowLocal: false };

function runOf(url: string, trigger: RunTrigger, branch: string, commit: string | null): Run {
  return {
    id: 1,
    project_id: 1,
    trigger,
    branch,
    commit,
    secrets_withheld: null,
    definition: { repository_url: url, config_path: '.ansflow.yml', repository_credential: null },
  } as unknown as Run;
}

test('a manual run of a pipeline file starts one git process: the fetch and the read of the branch head together', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ '.ansflow.yml': 'steps:\n  - name: one\n    run: echo one\n' }] });
    const started: string[] = [];
    const commands: CommandRunner = (request) => {
      // git's maintenance is started in the background at most once per mirror every 10 minutes.
      if (!request.args.includes('maintenance')) started.push([request.file, ...request.args].join(' '));
      return spawnCommand(request);
    };
    const readers: LongLivedRunner = (request) => {
      started.push(`reader: ${[request.file, ...request.args].join(' ')}`);
      return spawnLongLived(request);
    };
    const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'mirrors'), policy, commands, readers });
    const url = daemon.url('app');
    const deps = { mirrors, planner: parsePipelineFile as unknown as PipelineFilePlanner, policy };
    await mirrors.prepare(url);

    // The branch has moved since the mirror was made: the run takes the head at its trigger.
    const work = join(tmp.path, 'work');
    git(tmp.path, ['clone', '-q', repo.bare, work]);
    writeFileSync(join(work, '.ansflow.yml'), 'steps:\n  - name: two\n    run: echo two\n');
    git(work, ['commit', '-q', '-am', 'two']);
    git(work, ['push', '-q', 'origin', 'HEAD:main']);
    const head = git(work, ['rev-parse', 'HEAD']);
    started.length = 0;
    const manual = await planFromFile(deps, runOf(url, { type: 'manual' }, 'main', null));
    assert.equal(manual.kind, 'planned');
    assert.equal(manual.kind === 'planned' && manual.commit, head);
    assert.deepEqual(manual.kind === 'planned' && manual.steps.map((s) => s.name), ['two']);
    assert.equal(started.length, 1, started.join('\n'));
    assert.ok(started[0]!.startsWith('flock ') && started[0]!.includes(' fetch ') && started[0]!.includes('cat-file'), started[0]);

    // A push of a commit the mirror now holds: no fetch; the first such run starts the mirror's
    // reader, the next ones start nothing.
    started.length = 0;
    const push = await planFromFile(deps, runOf(url, { type: 'webhook', event: 'push', ref: 'refs/heads/main' }, 'main', head));
    assert.equal(push.kind === 'planned' && push.commit, head);
    assert.equal(started.length, 1, started.join('\n'));
    assert.ok(started[0]!.startsWith('reader: ') && started[0]!.endsWith('cat-file --batch'), started[0]);
    started.length = 0;
    const again = await planFromFile(deps, runOf(url, { type: 'webhook', event: 'push', ref: 'refs/heads/main' }, 'main', head));
    assert.deepEqual(again.kind === 'planned' && again.steps.map((s) => s.name), ['two']);
    assert.equal(started.length, 0, started.join('\n'));
    mirrors.close();
  } finally {
    await daemon.stop();
    tmp.cleanup();
  }
});
