import type { Kysely } from 'kysely';
import type { Database, UserRow, UsersTable } from './schema.js';
import type { Updateable } from 'kysely';
import type { Role } from '../domain/roles.js';
import { DEFAULT_PROJECT_ROLE } from '../domain/permissions.js';
import { nowIso } from './time.js';

export interface User {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  is_active: boolean;
  token_version: number;
  date_joined: string;
}

export interface UserWithHash extends User {
  password_hash: string;
}

const toUser = (row: UserRow): UserWithHash => ({
  id: row.id,
  username: row.username,
  email: row.email,
  first_name: row.first_name,
  last_name: row.last_name,
  role: row.role as Role,
  is_active: row.is_active === 1,
  token_version: row.token_version,
  date_joined: row.date_joined,
  password_hash: row.password_hash,
});

export interface NewUser {
  username: string;
  email: string;
  first_name?: string;
  last_name?: string;
  role: Role;
  password_hash: string;
  is_active?: boolean;
}

export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository working inside a transaction (see store/transaction.ts). */
  in(tx: Kysely<Database>): UsersRepository {
    return new UsersRepository(tx);
  }

  async findById(id: number): Promise<UserWithHash | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findByUsername(username: string): Promise<UserWithHash | null> {
    const row = await this.db.selectFrom('users').selectAll().where('username_key', '=', username.toLowerCase()).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(options: { limit: number; offset: number }): Promise<{ total: number; items: User[] }> {
    const [rows, total] = await Promise.all([
      this.db.selectFrom('users').selectAll().orderBy('id').limit(options.limit).offset(options.offset).execute(),
      this.count(),
    ]);
    return { total, items: rows.map(toUser) };
  }

  /**
   * Returns null when the username is taken (case-insensitively). `joinDefaultProject: false` for
   * accounts made by single sign-on, whose projects come from their groups only.
   */
  async create(user: NewUser, options: { joinDefaultProject?: boolean } = {}): Promise<UserWithHash | null> {
    const row = await this.db
      .insertInto('users')
      .values({
        username: user.username,
        username_key: user.username.toLowerCase(),
        email: user.email,
        first_name: user.first_name ?? '',
        last_name: user.last_name ?? '',
        password_hash: user.password_hash,
        role: user.role,
        is_active: user.is_active === false ? 0 : 1,
        token_version: 0,
        date_joined: nowIso(),
      })
      .onConflict((oc) => oc.column('username_key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return null;
    if (options.joinDefaultProject === false) return toUser(row);
    // A new user joins the `default` project with the project role of their global role, as the
    // upgrade to projects (migration 009) did for everyone; owners and admins can change that.
    await this.db
      .insertInto('project_members')
      .columns(['project_id', 'user_id', 'role', 'created_at'])
      .expression((eb) =>
        eb
          .selectFrom('projects')
          .select((s) => [
            'projects.id',
            s.val(row.id).as('user_id'),
            s.val(DEFAULT_PROJECT_ROLE[user.role]).as('role'),
            s.val(row.date_joined).as('created_at'),
          ])
          .where('projects.name_key', '=', 'default'),
      )
      .execute();
    return toUser(row);
  }

  async update(id: number, fields: Partial<Pick<User, 'email' | 'first_name' | 'last_name' | 'role' | 'is_active'>>): Promise<UserWithHash | null> {
    const values: Updateable<UsersTable> = {};
    if (fields.email !== undefined) values.email = fields.email;
    if (fields.first_name !== undefined) values.first_name = fields.first_name;
    if (fields.last_name !== undefined) values.last_name = fields.last_name;
    if (fields.role !== undefined) values.role = fields.role;
    if (fields.is_active !== undefined) values.is_active = fields.is_active ? 1 : 0;
    if (Object.keys(values).length > 0) await this.db.updateTable('users').set(values).where('id', '=', id).execute();
    return this.findById(id);
  }

  /** Sets a new hash and bumps the token version so every access token issued before stops working. */
  async setPassword(id: number, passwordHash: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ password_hash: passwordHash, token_version: eb('token_version', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }
}
