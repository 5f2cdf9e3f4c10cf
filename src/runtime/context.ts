/**
 * The composition root: opens the database, runs migrations and builds every service with its
 * dependencies passed in. The CLI, the servers and the tests all start from here.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { openDb, type Db } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { SecretBox } from '../store/secret-box.js';
import { UsersRepository } from '../store/users-repository.js';
import { RefreshTokensRepository } from '../store/refresh-tokens-repository.js';
import { PipelinesRepository } from '../store/pipelines-repository.js';
import { loadOrCreateSecretKey } from '../services/secret-key.js';
import { TokenService } from '../services/auth/token-service.js';
import { PasswordHasher } from '../services/auth/password-hasher.js';
import { LoginThrottle } from '../services/auth/login-throttle.js';
import { AuthService } from '../services/auth/auth-service.js';
import { UsersService } from '../services/users-service.js';
import { PipelinesService } from '../services/pipelines-service.js';

export const VERSION = '1.0.0';

export interface AppContext {
  config: Config;
  logger: Logger;
  db: Db;
  secrets: SecretBox;
  repos: {
    users: UsersRepository;
    refreshTokens: RefreshTokensRepository;
    pipelines: PipelinesRepository;
  };
  auth: AuthService;
  users: UsersService;
  pipelines: PipelinesService;
  close(): Promise<void>;
}

export async function createContext(config: Config, logger: Logger): Promise<AppContext> {
  const secretKey = loadOrCreateSecretKey(config.secretKey, config.dataDir);
  const db = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  const secrets = new SecretBox(secretKey);
  const repos = {
    users: new UsersRepository(db.kysely),
    refreshTokens: new RefreshTokensRepository(db.kysely),
    pipelines: new PipelinesRepository(db.kysely, secrets),
  };
  const hasher = new PasswordHasher();
  const tokens = new TokenService(secretKey, config.accessTokenTtlSeconds, config.refreshTokenTtlSeconds);
  const auth = new AuthService({ users: repos.users, refreshTokens: repos.refreshTokens, tokens, hasher, throttle: new LoginThrottle() });
  const users = new UsersService(repos.users, repos.refreshTokens, hasher);
  const pipelines = new PipelinesService(repos.pipelines, { allowLocal: config.allowLocalRepositories });
  return {
    config,
    logger,
    db,
    secrets,
    repos,
    auth,
    users,
    pipelines,
    close: () => db.close(),
  };
}
