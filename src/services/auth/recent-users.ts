/**
 * Remembers users looked up for access tokens for a moment (1 s by default): authentication runs
 * on every request, and the lookup was a third of a list request's database work. A change made
 * through this process (role, deactivation, password) forgets the user at once; a change made by
 * another process applies within the TTL — stateless JWT checks would wait for the token to expire.
 */
import type { UserWithHash, UsersRepository } from '../../store/users-repository.js';

const MAX_ENTRIES = 10_000;

export class RecentUsers {
  private readonly entries = new Map<number, { user: UserWithHash | null; at: number }>();

  constructor(
    private readonly users: UsersRepository,
    private readonly ttlMs = 1000,
  ) {}

  async get(id: number, now = Date.now()): Promise<UserWithHash | null> {
    const hit = this.entries.get(id);
    if (hit && now - hit.at < this.ttlMs) return hit.user;
    const user = await this.users.findById(id);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(id, { user, at: now });
    return user;
  }

  forget(id: number): void {
    this.entries.delete(id);
  }
}
