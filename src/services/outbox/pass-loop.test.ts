import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PassLoop } from './pass-loop.js';

/** A pass that records when it ran and waits until released. */
function gatedPasses() {
  const started: number[] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  return {
    started,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    pass: async () => {
      started.push(Date.now());
      await gate;
    },
  };
}

test('one pass at a time; wakes during a pass make one more pass after it, not one each', async () => {
  const passes = gatedPasses();
  passes.hold();
  const loop = new PassLoop(passes.pass, 60_000);
  loop.wake();
  for (let i = 0; i < 5; i++) loop.wake();
  await sleep(20);
  assert.equal(passes.started.length, 1, 'no second pass while the first runs');
  passes.release();
  await sleep(20);
  assert.equal(passes.started.length, 2, 'the five wakes made one pass');
  await sleep(30);
  assert.equal(passes.started.length, 2, 'then it waits for the poll');
  await loop.stop();
});

test('polls every pollMs; a pass can ask for another at once, or at a time', async () => {
  let passes = 0;
  let askAgain = true;
  const loop = new PassLoop(async () => {
    passes++;
    if (askAgain) {
      askAgain = false;
      loop.passAgain();
    }
  }, 40);
  loop.start();
  await sleep(20);
  assert.equal(passes, 2, 'the first pass and the one it asked for');
  await sleep(60);
  assert.ok(passes >= 3, `polled (${passes})`);
  await loop.stop();
  const stoppedAt = passes;
  loop.wake();
  loop.wakeAt(Date.now());
  await sleep(60);
  assert.equal(passes, stoppedAt, 'nothing passes after stop');
});

test('stop waits for the pass in progress', async () => {
  const passes = gatedPasses();
  passes.hold();
  const loop = new PassLoop(passes.pass, 60_000);
  loop.wake();
  let stopped = false;
  const stopping = loop.stop().then(() => (stopped = true));
  await sleep(10);
  assert.equal(stopped, false);
  passes.release();
  await stopping;
  assert.equal(loop.isStopped, true);
});
