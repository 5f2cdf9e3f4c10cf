/** A user as the API shows it: never with the password hash, whatever the repository returned. */
import type { User } from '../../store/users-repository.js';

export function withoutHash({ password_hash: _hash, ...user }: User & { password_hash?: string }): User {
  return user;
}
