/**
 * The composition root: opens the database, runs migrations and builds every service with its
 * dependencies passed in. The CLI, the servers and the tests all start from here.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { openDb, type Db } from '../store/db.js';
import { statementWriter } from '../store/statement-writer.js';
import { migrateToLatest } from '../store/migrate.js';
import { SecretBox } from '../store/secret-box.js';
import { UsersRepository } from '../store/users-repository.js';
import { RefreshTokensRepository } from '../store/refresh-tokens-repository.js';
import { PipelinesRepository } from '../store/pipelines-repository.js';
import { secretKeySource } from '../services/secret-key.js';
import { CredentialsRepository } from '../store/credentials-repository.js';
import { CredentialsService } from '../services/credentials-service.js';
import { ProjectsRepository } from '../store/projects-repository.js';
import { ProjectAccess } from '../services/projects/project-access.js';
import { ProjectsService } from '../services/projects/projects-service.js';
import { TokenService } from '../services/auth/token-service.js';
import { PasswordHasher } from '../services/auth/password-hasher.js';
import { LoginThrottle } from '../services/auth/login-throttle.js';
import { AuthService } from '../services/auth/auth-service.js';
import { RecentUsers } from '../services/auth/recent-users.js';
import { UsersService } from '../services/users-service.js';
import { PipelinesService } from '../services/pipelines-service.js';
import { RunsRepository } from '../store/runs-repository.js';
import { RunQueueRepository } from '../store/run-queue-repository.js';
import type { EventBus } from '../events/event-bus.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { EngineOptions, LogStore } from '../engine/ports.js';
import type { LocalCancellations } from '../services/runs/cancellation.js';
import { createAdapters } from './adapters.js';
import { WorkersRepository } from '../store/workers-repository.js';
import { RunsService } from '../services/runs/runs-service.js';
import { workspaceRoot } from '../services/runs/run-worker.js';
import { DeliveriesRepository } from '../store/deliveries-repository.js';
import { JenkinsBuildsRepository } from '../store/jenkins-builds-repository.js';
import { DeliveriesService } from '../services/webhooks/deliveries-service.js';
import { PlatformMetrics } from '../services/system/platform-metrics.js';
import { PersonalTokensRepository } from '../store/personal-tokens-repository.js';
import { AuditEventsRepository } from '../store/audit-events-repository.js';
import { transactor } from '../store/transaction.js';
import { AuditLog } from '../services/audit/audit-log.js';
import { PersonalTokens } from '../services/auth/personal-tokens.js';
import { CommitStatusesRepository } from '../store/commit-statuses-repository.js';
import { SsoRepository } from '../store/sso-repository.js';
import { SsoService } from '../services/auth/sso/sso-service.js';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { openArtifactStore } from '../artifacts/open-artifact-store.js';
import { parseArtifactStoreUrl } from '../artifacts/artifact-store-url.js';
import { OutputsRepository } from '../store/outputs-repository.js';
import { createDelivery, type Delivery } from './delivery.js';

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
    runs: RunsRepository;
    runQueue: RunQueueRepository;
    deliveries: DeliveriesRepository;
    jenkinsBuilds: JenkinsBuildsRepository;
    workers: WorkersRepository;
    credentials: CredentialsRepository;
    projects: ProjectsRepository;
    personalTokens: PersonalTokensRepository;
    auditEvents: AuditEventsRepository;
    /** The commit status outbox (migration 013). */
    commitStatuses: CommitStatusesRepository;
    sso: SsoRepository;
    /** Artifacts, caches and snapshots as recorded (migration 016). */
    outputs: OutputsRepository;
  };
  /** Where artifacts, caches and workspace snapshots are stored (ANSFLOW_ARTIFACTS_URL). */
  artifactStore: ArtifactStore;
  /** True when Redis is configured: queue, events and cancels cross processes; logs live in the database. */
  distributed: boolean;
  events: EventBus;
  queue: JobQueue;
  logs: LogStore;
  cancellations: LocalCancellations;
  runs: RunsService;
  engine: EngineOptions;
  auth: AuthService;
  users: UsersService;
  pipelines: PipelinesService;
  credentials: CredentialsService;
  projects: ProjectsService;
  /** The permission policy with memberships looked up (services/projects/project-access.ts). */
  access: ProjectAccess;
  /** Personal access tokens (`afp_…`). */
  personalTokens: PersonalTokens;
  /** Single sign-on (OpenID Connect); null when no provider is configured. */
  sso: SsoService | null;
  /** The audit recorder: changes and their events in one transaction. */
  audit: AuditLog;
  deliveries: DeliveriesService;
  /** Continuous delivery (issue 13): environments, approval gates. */
  delivery: Delivery;
  metrics: PlatformMetrics;
  close(): Promise<void>;
}

export async function createContext(config: Config, logger: Logger): Promise<AppContext> {
  // The key ring: the data folder's is re-read when a rotation changes it (see SecretBox).
  const keySource = secretKeySource(config);
  const keys = keySource.load();
  const db = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  const secrets = new SecretBox(keySource);
  const pipelinesRepo = new PipelinesRepository(db.kysely, secrets, statementWriter(db.kysely, db.sqlite));
  const repos = {
    users: new UsersRepository(db.kysely),
    refreshTokens: new RefreshTokensRepository(db.kysely),
    pipelines: pipelinesRepo,
    runs: new RunsRepository(db.kysely, pipelinesRepo),
    runQueue: new RunQueueRepository(db.kysely),
    deliveries: new DeliveriesRepository(db.kysely),
    jenkinsBuilds: new JenkinsBuildsRepository(db.kysely),
    workers: new WorkersRepository(db.kysely),
    credentials: new CredentialsRepository(db.kysely, secrets),
    projects: new ProjectsRepository(db.kysely),
    personalTokens: new PersonalTokensRepository(db.kysely),
    auditEvents: new AuditEventsRepository(db.kysely, { batchedIndexes: db.dialect === 'sqlite' }),
    commitStatuses: new CommitStatusesRepository(db.kysely),
    sso: new SsoRepository(db.kysely),
    outputs: new OutputsRepository(db.kysely),
  };
  const access = new ProjectAccess(repos.projects);
  // The policy decides how much of the audit log each caller reads (maintainers: their projects).
  const audit = new AuditLog(repos.auditEvents, transactor(db.kysely), access);
  const adapters = await createAdapters(config, db, repos.runQueue, logger);
  const artifactStore = await openArtifactStore(
    parseArtifactStoreUrl(config.outputs.artifactsUrl ?? undefined, join(config.dataDir, 'artifacts')),
    config.outputs.s3,
  );
  const { events, queue, logs } = adapters;
  const cancellations = adapters.localCancellations;
  const delivery = createDelivery({
    db: db.kysely,
    runs: repos.runs,
    access,
    audit,
    events,
    queue,
    projects: repos.projects,
    users: repos.users,
    pipelines: repos.pipelines,
  });
  const runs = new RunsService({
    gates: delivery.gates,
    access,
    pipelines: repos.pipelines,
    runs: repos.runs,
    queue,
    events,
    logs,
    cancellations: adapters.cancellations,
    queueRepo: repos.runQueue,
    audit,
    commitStatuses: repos.commitStatuses,
  });
  const engine: EngineOptions = {
    workspaceRoot: workspaceRoot(config.dataDir),
    shell: 'bash',
    cancelGraceMs: config.cancelGraceSeconds * 1000,
    allowLocalRepositories: config.allowLocalRepositories,
    allowMetadataAddresses: config.allowMetadataAddresses,
    maxLineBytes: 64 * 1024,
    maxParallelSteps: config.maxParallelSteps,
  };
  const hasher = new PasswordHasher();
  const tokens = new TokenService([keys.current, ...keys.previous], config.accessTokenTtlSeconds, config.refreshTokenTtlSeconds);
  const recentUsers = new RecentUsers(repos.users);
  const personalTokens = new PersonalTokens({ tokens: repos.personalTokens, users: recentUsers, audit });
  const auth = new AuthService({
    users: repos.users,
    refreshTokens: repos.refreshTokens,
    tokens,
    hasher,
    throttle: new LoginThrottle(),
    recentUsers,
    personalTokens,
    audit,
    passwordLogin: { enabled: config.passwordLogin, breakGlassUser: config.breakGlassUser },
  });
  const sso = config.oidc
    ? new SsoService({ config: config.oidc, sso: repos.sso, users: repos.users, projects: repos.projects, auth, audit, recentUsers })
    : null;
  const users = new UsersService(repos.users, repos.refreshTokens, hasher, recentUsers, audit);
  const pipelines = new PipelinesService(
    repos.pipelines,
    {
      allowLocal: config.allowLocalRepositories,
      allowMetadataAddresses: config.allowMetadataAddresses,
    },
    repos.credentials,
    access,
    repos.projects,
    audit,
  );
  const deliveries = new DeliveriesService({
    gates: delivery.gates,
    access,
    pipelines: repos.pipelines,
    runs: repos.runs,
    queue,
    events,
    deliveries: repos.deliveries,
    audit,
    cancelSuperseded: (run, reason) => runs.supersede(run, reason),
  });
  const metrics = new PlatformMetrics({ runs: repos.runs, pipelines: repos.pipelines, queue, events, db: db.kysely, dataDir: config.dataDir });
  return {
    config,
    logger,
    distributed: adapters.distributed,
    db,
    secrets,
    repos,
    auth,
    users,
    pipelines,
    credentials: new CredentialsService(repos.credentials, access, repos.projects, audit),
    projects: new ProjectsService(repos.projects, repos.users, access, audit),
    access,
    personalTokens,
    sso,
    audit,
    events,
    queue,
    logs,
    cancellations,
    runs,
    engine,
    deliveries,
    delivery,
    metrics,
    artifactStore,
    close: async () => {
      metrics.close();
      await artifactStore.close();
      await adapters.close();
      await db.close();
    },
  };
}
