import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from './login-throttle.js';

test('allows attempts until the per-user limit, then asks to wait until the window frees a slot', () => {
  const t = new LoginThrottle({ perUser: 3, perClient: 100, windowMs: 60_000 });
  const now = 1_000_000;
  for (let i = 0; i < 3; i++) {
    assert.equal(t.retryAfter('1.2.3.4', 'admin', now), 0);
    t.recordFailure('1.2.3.4', 'Admin', now);
  }
  assert.equal(t.retryAfter('1.2.3.4', 'admin', now), 60);
  assert.equal(t.retryAfter('1.2.3.4', 'admin', now + 30_000), 30);
  assert.equal(t.retryAfter('1.2.3.4', 'admin', now + 60_001), 0);
  assert.equal(t.retryAfter('5.6.7.8', 'admin', now), 0, 'another client is not affected');
});

test('the per-client limit spans usernames', () => {
  const t = new LoginThrottle({ perUser: 100, perClient: 2, windowMs: 60_000 });
  t.recordFailure('c', 'a', 0);
  t.recordFailure('c', 'b', 0);
  assert.ok(t.retryAfter('c', 'z', 1) > 0);
});

test('a success clears the per-user failures', () => {
  const t = new LoginThrottle({ perUser: 2, perClient: 100, windowMs: 60_000 });
  t.recordFailure('c', 'a', 0);
  t.recordSuccess('c', 'a');
  t.recordFailure('c', 'a', 0);
  assert.equal(t.retryAfter('c', 'a', 1), 0);
});
