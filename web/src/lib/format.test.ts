import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { elapsedMs, formatBytes, formatDuration, formatRelative, formatUptime, shortCommit } from './format';
import { isExpiring, refreshDelay, tokenExpiry } from './jwt';

describe('format', () => {
  it('formats durations', () => {
    assert.equal(formatDuration(null), '—');
    assert.equal(formatDuration(350), '350ms');
    assert.equal(formatDuration(1234), '1.2s');
    assert.equal(formatDuration(42_000), '42s');
    assert.equal(formatDuration(75_000), '1m 15s');
    assert.equal(formatDuration(3_700_000), '1h 1m');
  });

  it('formats sizes in binary units', () => {
    assert.equal(formatBytes(null), '—');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(300_000), '293.0 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
  });

  it('computes elapsed time, running or finished', () => {
    assert.equal(elapsedMs('2025-01-01T00:00:00Z', '2025-01-01T00:00:05Z', 0), 5000);
    assert.equal(elapsedMs('2025-01-01T00:00:00Z', null, Date.parse('2025-01-01T00:01:00Z')), 60_000);
    assert.equal(elapsedMs(null, null, 0), null);
  });

  it('formats relative times', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    assert.equal(formatRelative('2025-01-01T11:59:50Z', now, 'en'), 'just now');
    assert.equal(formatRelative('2025-01-01T11:57:00Z', now, 'en'), '3 minutes ago');
    assert.equal(formatRelative('2024-12-31T12:00:00Z', now, 'en'), 'yesterday');
    assert.equal(formatRelative(null, now), '—');
  });

  it('formats uptime and commits', () => {
    assert.equal(formatUptime(93_784), '1d 2h 3m');
    assert.equal(formatUptime(59), '59s');
    assert.equal(shortCommit('abcdef1234567890'), 'abcdef12');
  });
});

describe('jwt timing', () => {
  const token = (exp: number) => `x.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.y`;

  it('reads the expiry', () => {
    assert.equal(tokenExpiry(token(1000)), 1_000_000);
    assert.equal(tokenExpiry('garbage'), null);
  });

  it('plans a refresh a minute before expiry', () => {
    const now = 0;
    assert.equal(refreshDelay(token(15 * 60), now), 14 * 60_000);
    assert.equal(refreshDelay(token(0), now), 0);
    assert.equal(isExpiring(token(5), now), true);
    assert.equal(isExpiring(token(60), now), false);
  });
});
