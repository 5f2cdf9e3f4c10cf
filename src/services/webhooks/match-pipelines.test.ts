import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pipeline } from '../../store/pipelines-repository.js';
import type { TriggerEvent } from '../../integrations/trigger-event.js';
import { matchPipelines } from './match-pipelines.js';

const pipeline = (id: number, fields: Partial<Pipeline>): Pipeline =>
  ({ id, name: `p${id}`, status: 'active', repository_url: 'https://github.com/o/r.git', branch: 'main', trigger_events: ['push'], ...fields }) as Pipeline;
const event: TriggerEvent = {
  provider: 'github',
  kind: 'push',
  repositoryUrls: ['https://github.com/O/R.git', 'git@github.com:O/R.git'],
  branch: 'release/1',
  ref: 'refs/heads/release/1',
  commit: 'a'.repeat(40),
  author: null,
  event: 'push',
  action: null,
};

test('matches on repository (scheme, credentials, case, .git ignored), branch pattern and event kind', () => {
  const ps = [
    pipeline(1, { repository_url: 'ssh://git@GitHub.com/o/r', branch: 'release/*' }),
    pipeline(2, { repository_url: 'https://user:pw@github.com/o/r', branch: 'release/*', trigger_events: ['tag'] }),
    pipeline(3, { branch: 'main' }),
    pipeline(4, { repository_url: 'https://github.com/o/other.git', branch: '**' }),
    pipeline(5, { branch: '**', status: 'inactive' }),
  ];
  assert.deepEqual(
    matchPipelines(ps, event).matched.map((p) => p.id),
    [1],
  );
});

test('when nothing matches, the reason names the failing condition', () => {
  assert.match(matchPipelines([], event).reason ?? '', /no active pipeline uses the repository github.com\/o\/r/);
  assert.match(matchPipelines([pipeline(3, {})], event).reason ?? '', /matches the branch "release\/1" \(#3 main\)/);
  assert.match(matchPipelines([pipeline(2, { branch: '**', trigger_events: ['tag'] })], event).reason ?? '', /triggers on push \(#2 tag\)/);
});
