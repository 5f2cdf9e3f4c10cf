/** Creating users, changing profiles and passwords. Password changes revoke every token. */
import { AppError, conflict, notFound, validationError } from '../domain/errors.js';
import type { Actor, Role } from '../domain/roles.js';
import { auditDiff, Redacted } from '../domain/audit.js';
import { entry, type AuditLog, type RecordEvent } from './audit/audit-log.js';
import { userAuditView, userTarget } from './audit/audit-views.js';
import type { RefreshTokensRepository } from '../store/refresh-tokens-repository.js';
import type { User, UsersRepository } from '../store/users-repository.js';
import { withoutHash } from './auth/public-user.js';
import type { RecentUsers } from './auth/recent-users.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, type PasswordHasher } from './auth/password-hasher.js';

export interface NewUserInput {
  username: string;
  password: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  role?: Role;
}

export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly hasher: PasswordHasher,
    private readonly recentUsers?: RecentUsers,
    /** Every change is written with its audit event (never a password hash), in one transaction. */
    private readonly audit?: AuditLog,
  ) {}

  /** A change and its audit event in one transaction (without an audit log: the change alone). */
  private change<T>(work: (users: UsersRepository, record: RecordEvent) => Promise<T>): Promise<T> {
    if (!this.audit) return work(this.users, async () => {});
    return this.audit.change((tx, record) => work(this.users.in(tx), record));
  }

  /** `by`: who creates the user (null: the platform itself, e.g. the first admin). */
  async create(input: NewUserInput, by: Actor | null = null): Promise<User> {
    const problem = passwordProblem(input.password);
    if (problem) throw validationError({ password: [problem] });
    const passwordHash = await this.hasher.hash(input.password);
    const created = await this.change(async (users, record) => {
      const user = await users.create({
        username: input.username,
        email: input.email ?? '',
        first_name: input.first_name ?? '',
        last_name: input.last_name ?? '',
        role: input.role ?? 'developer',
        password_hash: passwordHash,
      });
      if (user) await record(entry(by, 'user.create', userTarget(user), auditDiff(null, { ...userAuditView(user), password_hash: new Redacted('set') })));
      return user;
    });
    if (!created) throw conflict(`A user named "${input.username}" already exists`, { username: ['A user with that username already exists.'] });
    return withoutHash(created);
  }

  async get(id: number): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('User');
    return withoutHash(user);
  }

  async update(id: number, fields: Partial<Pick<User, 'email' | 'first_name' | 'last_name' | 'role' | 'is_active'>>, by: Actor | null = null): Promise<User> {
    const user = await this.change(async (users, record) => {
      const before = await users.findById(id);
      const after = before ? await users.update(id, fields) : null;
      if (before && after) await record(entry(by, 'user.update', userTarget(after), auditDiff(userAuditView(before), userAuditView(after))));
      return after;
    });
    this.recentUsers?.forget(id);
    if (!user) throw notFound('User');
    if (fields.is_active === false || fields.role !== undefined) await this.refreshTokens.revokeAllForUser(id);
    return withoutHash(user);
  }

  /** Sets a password; with `current` the caller must prove they know the old one. */
  async setPassword(id: number, next: string, current?: string, by: Actor | null = null): Promise<void> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('User');
    if (current !== undefined && !(await this.hasher.verify(user.password_hash, current)))
      throw validationError({ current_password: ['Current password is incorrect.'] });
    const problem = passwordProblem(next);
    if (problem) throw validationError({ new_password: [problem] });
    const hash = await this.hasher.hash(next);
    await this.change(async (users, record) => {
      await users.setPassword(id, hash);
      await record(entry(by, 'user.password_change', userTarget(user), { password_hash: { before: new Redacted(0), after: new Redacted(1) } }));
    });
    this.recentUsers?.forget(id);
    await this.refreshTokens.revokeAllForUser(id);
  }

  async list(page: { limit: number; offset: number }) {
    return this.users.list(page);
  }

  /** Creates `admin` on first start; returns whether it was created. */
  async ensureAdmin(password: string): Promise<boolean> {
    if ((await this.users.count()) > 0) return false;
    try {
      await this.create({ username: 'admin', password, email: 'admin@example.com', first_name: 'Admin', last_name: 'User', role: 'admin' });
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === 'RESOURCE_CONFLICT') return false;
      throw error;
    }
  }
}

function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `Password must be at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > MAX_PASSWORD_LENGTH) return `Password must be at most ${MAX_PASSWORD_LENGTH} characters.`;
  return null;
}
