import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lowPriorityPrefix, niceOf, restorePriority } from './priority.js';
import { waitFor } from '../../../../test/support/wait.js';

test('a process started at low priority, and what it started, are set back to normal, every thread', async (t) => {
  if (process.getuid?.() !== 0) {
    // Raising a priority again needs root (CAP_SYS_NICE); without it the sandbox never lowers one.
    t.skip('needs root');
    return;
  }
  // nice 19 → bash, which starts a sleep: both inherit 19.
  const child = spawn(lowPriorityPrefix('nice')[0]!, [...lowPriorityPrefix('nice').slice(1), 'bash', '-c', 'sleep 30 & wait'], { stdio: 'ignore' });
  try {
    const pid = child.pid!;
    const sleeper = await waitFor(
      async () => {
        const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
        return kids ? Number(kids.split(/\s+/)[0]) : undefined;
      },
      5000,
      'the sleep to start',
    );
    assert.equal(niceOf(pid), 19);
    assert.equal(niceOf(sleeper), 19);
    assert.ok(restorePriority(pid) >= 2);
    assert.equal(niceOf(pid), 0);
    assert.equal(niceOf(sleeper), 0);
  } finally {
    child.kill('SIGKILL');
  }
});
