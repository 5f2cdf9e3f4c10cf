import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentUsers } from './recent-users.js';
import type { UsersRepository } from '../../store/users-repository.js';

function countingRepo() {
  let calls = 0;
  const repo = {
    findById: async (id: number) => {
      calls += 1;
      return { id, username: `u${id}`, token_version: calls } as never;
    },
  } as unknown as UsersRepository;
  return { repo, calls: () => calls };
}

test('a user is read once within the TTL, again after it, and at once after forget()', async () => {
  const { repo, calls } = countingRepo();
  const recent = new RecentUsers(repo, 1000);
  await recent.get(1, 0);
  await recent.get(1, 500);
  assert.equal(calls(), 1);
  await recent.get(1, 1500);
  assert.equal(calls(), 2);
  recent.forget(1);
  await recent.get(1, 1600);
  assert.equal(calls(), 3);
});
