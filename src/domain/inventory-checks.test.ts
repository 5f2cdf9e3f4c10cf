import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateSelected, factsThatMatter, limitProblem, shownCheck } from './inventory-checks.js';
import type { ParsedInventory } from './inventories.js';

const parsed: ParsedInventory = {
  hosts: [
    { name: 'web1', groups: ['prod', 'web'], vars: {} },
    { name: 'web2', groups: ['prod', 'web'], vars: {} },
    { name: 'db1', groups: ['db', 'prod'], vars: {} },
    { name: 'lab1', groups: [], vars: {} },
  ],
  groups: [],
};

test('estimateSelected: names, groups, wildcards, exclusion and intersection; regex counts everything', () => {
  assert.equal(estimateSelected(parsed, null), 4);
  assert.equal(estimateSelected(parsed, 'web1'), 1);
  assert.equal(estimateSelected(parsed, 'web'), 2);
  assert.equal(estimateSelected(parsed, 'web,db1'), 3);
  assert.equal(estimateSelected(parsed, 'all:!web'), 2);
  assert.equal(estimateSelected(parsed, '!db'), 3);
  assert.equal(estimateSelected(parsed, 'prod:&web:!web2'), 1);
  assert.equal(estimateSelected(parsed, 'web*'), 2);
  assert.equal(estimateSelected(parsed, 'nosuch'), 0);
  assert.equal(estimateSelected(parsed, '~web.*'), 4);
});

test('limitProblem refuses options and spaces', () => {
  assert.equal(limitProblem('web1,db1'), null);
  assert.ok(limitProblem('--become'));
  assert.ok(limitProblem('web1 db1'));
  assert.ok(limitProblem(''));
});

test('factsThatMatter keeps what tells what the host is', () => {
  const facts = factsThatMatter({
    ansible_system: 'Linux',
    ansible_distribution: 'Debian',
    ansible_distribution_version: '12.5',
    ansible_default_ipv4: { address: '10.0.0.5', interface: 'eth0' },
    ansible_all_ipv4_addresses: ['10.0.0.5', 7],
    ansible_python: { executable: '/usr/bin/python3' },
    ansible_python_version: '3.11.2',
  });
  assert.equal(facts.system, 'Linux');
  assert.equal(facts.default_ipv4, '10.0.0.5');
  assert.deepEqual(facts.ipv4_addresses, ['10.0.0.5']);
  assert.equal(facts.python_executable, '/usr/bin/python3');
  assert.equal(facts.kernel, null);
  assert.deepEqual(facts.ipv6_addresses, []);
});

test('shownCheck tallies the results and shows a check running past its time as interrupted', () => {
  const result = (host: string, status: 'reachable' | 'unreachable' | 'failed') => ({
    host,
    status,
    reason: null,
    facts: null,
    checked_at: '2026-12-02T00:00:00.000Z',
  });
  const check = {
    status: 'running' as const,
    started_at: '2026-12-02T00:00:00.000Z',
    error: null,
    results: [result('a', 'reachable'), result('b', 'unreachable'), result('c', 'reachable')],
  };
  const start = Date.parse(check.started_at);
  const fresh = shownCheck(check, 60_000, start + 119_000);
  assert.equal(fresh.status, 'running');
  assert.equal(fresh.error, null);
  assert.deepEqual(fresh.counts, { reachable: 2, unreachable: 1, failed: 0 });
  const stale = shownCheck(check, 60_000, start + 121_000);
  assert.equal(stale.status, 'error');
  assert.match(String(stale.error), /interrupted/);
  assert.equal(shownCheck({ ...check, status: 'finished' }, 60_000, start + 10_000_000).status, 'finished', 'an ended check stays as it ended');
});
