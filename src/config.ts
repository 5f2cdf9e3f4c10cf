/**
 * One typed configuration, read from the environment (a `.env` file is loaded by the CLI first)
 * and overridden by CLI flags. Every bad value is reported at start, all at once, by name.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseSize } from './domain/sizes.js';
import { loadSsoConfig, type SsoConfig } from './sso-config.js';
import { loadOutputsConfig, type OutputsConfig } from './outputs-config.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config extends SsoConfig {
  /** Artifacts, caches and snapshots: where and how much (src/outputs-config.ts). */
  outputs: OutputsConfig;
  host: string;
  apiPort: number;
  gatewayPort: number;
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  /** Prefix of every Redis key and channel, so several deployments (or tests) can share a Redis. */
  redisPrefix: string;
  rabbitmqUrl: string | null;
  secretKey: string | null;
  /** Old keys that still open sealed values and verify tokens during a key rotation (ANSFLOW_SECRET_KEY_PREVIOUS, comma-separated). */
  secretKeyPrevious: string[];
  adminPassword: string | null;
  githubWebhookSecret: string | null;
  gitlabWebhookToken: string | null;
  jenkins: { url: string; user: string | null; token: string | null } | null;
  allowLocalRepositories: boolean;
  maxConcurrentRuns: number;
  maxRunsPerPipeline: number;
  workspaceRetentionHours: number;
  /** An inventory connectivity check of more hosts than this answers 202 and runs on (ANSFLOW_INVENTORY_CHECK_SYNC_HOSTS). */
  inventoryCheckSyncHosts: number;
  /** Retention (docs/operations.md): the global default, 0 = no limit; pipelines may set their own. */
  retentionKeepRuns: number;
  retentionKeepDays: number;
  /** How often the retention sweeper looks for expired runs, and how many runs it removes at a time. */
  retentionSweepSeconds: number;
  retentionBatch: number;
  /** Audit events older than this many days are removed by the sweeper; 0 = kept for ever (ANSFLOW_AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number;
  cancelGraceSeconds: number;
  /** Steps of one run running at the same time (ANSFLOW_MAX_PARALLEL_STEPS). */
  maxParallelSteps: number;
  /** Distributed mode: a worker's lease on a claimed run (renewed every third of it); a dead worker is noticed after about twice this. */
  workerLeaseSeconds: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  logLevel: LogLevel;
  /** Webhook deliveries per source address per minute. */
  webhookRateLimit: number;
  /** WebSocket handshakes per source address per minute. */
  wsHandshakeRateLimit: number;
  /** Trust X-Forwarded-* from a reverse proxy (affects client IPs and absolute URLs). */
  trustProxy: boolean;
  /** Steps run in a sandbox (bubblewrap); off only when the operator says so (ANSFLOW_SANDBOX=off). */
  sandbox: boolean;
  /** The uid and gid sandboxed steps run as when the server is root. */
  sandboxUid: number;
  /** Extra host folders hidden from steps. */
  sandboxHide: string[];
  /** Per-step resource limits (a step's `limits` overrides each); null: none. */
  stepLimits: { memoryBytes: number | null; processes: number | null; cpus: number | null; fileSizeBytes: number | null };
  /** Size of a sandbox's private /tmp. */
  stepTmpBytes: number;
  /** Let repository URLs name cloud metadata and link-local addresses (169.254.169.254 and the like). */
  allowMetadataAddresses: boolean;
  /** When set, GET /metrics on the gateway answers only `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  /** A listener of its own for /metrics (default 127.0.0.1:9464; null when ANSFLOW_METRICS_LISTEN=off). */
  metricsListen: { host: string; port: number; explicit: boolean } | null;
  /**
   * Commit statuses on GitHub and GitLab (docs/forges.md): API base URLs (null: derived from the
   * repository), server-wide tokens (a pipeline's forge credential overrides them), and the public
   * address run links start with (ANSFLOW_PUBLIC_URL; null: the API's own address).
   */
  forge: { publicUrl: string | null; githubApiUrl: string | null; githubToken: string | null; gitlabApiUrl: string | null; gitlabToken: string | null };
  /**
   * Notification deliveries (docs/delivery.md): one attempt's time bound, attempts before giving
   * up, and the first retry delay (doubled per attempt). Milliseconds, so tests can be quick.
   */
  notifications: { timeoutMs: number; maxAttempts: number; retryBaseMs: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}="${raw}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined || raw === null) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}="${raw}" must be true or false`);
    return fallback;
  };
  const url = (name: string, schemes: string[]): string | null => {
    const raw = str(name);
    if (raw === null) return null;
    try {
      const parsed = new URL(raw);
      if (!schemes.includes(parsed.protocol.replace(':', ''))) throw new Error('scheme');
      return raw;
    } catch {
      problems.push(`${name} must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`);
      return null;
    }
  };

  /** A size like `2g`; `none` (or 0) for no limit. */
  const size = (name: string, fallback: string): number | null => {
    const raw = str(name) ?? fallback;
    if (raw === 'none' || raw === '0') return null;
    const bytes = parseSize(raw);
    if (bytes === null) problems.push(`${name}="${raw}" must be a size such as 512m or 2g, or none`);
    return bytes;
  };
  const limitCount = (name: string, fallback: number): number | null => {
    const raw = str(name);
    if (raw === 'none' || raw === '0') return null;
    return int(name, fallback, 8, 10_000_000);
  };
  const cpus = (name: string): number | null => {
    const raw = str(name);
    if (raw === null || raw === 'none' || raw === '0') return null;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || value > 1024) {
      problems.push(`${name}="${raw}" must be a number of cores such as 1.5, or none`);
      return null;
    }
    return value;
  };
  const sandboxSwitch = (): boolean => {
    const raw = str('ANSFLOW_SANDBOX')?.toLowerCase() ?? 'on';
    if (raw === 'on') return true;
    if (raw === 'off') return false;
    problems.push(`ANSFLOW_SANDBOX="${raw}" must be on or off`);
    return true;
  };

  // Read where a run's sandbox is prepared (sandbox-settings.ts); checked here so a typo stops the server.
  const spawner = str('ANSFLOW_SANDBOX_SPAWNER')?.toLowerCase();
  if (spawner !== undefined && spawner !== 'perl' && spawner !== 'node') problems.push(`ANSFLOW_SANDBOX_SPAWNER="${spawner}" must be perl or node`);

  const host = str('ANSFLOW_HOST') ?? '127.0.0.1';
  if (isIP(host) === 0 && host !== 'localhost') problems.push(`ANSFLOW_HOST="${host}" must be an IP address or localhost`);

  const databaseUrl = url('ANSFLOW_DATABASE_URL', ['postgres', 'postgresql', 'sqlite']);
  const jenkinsUrl = url('ANSFLOW_JENKINS_URL', ['http', 'https']);
  const logLevel = (str('ANSFLOW_LOG_LEVEL') ?? (env.NODE_ENV === 'test' ? 'silent' : 'info')) as LogLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    problems.push(`ANSFLOW_LOG_LEVEL="${logLevel}" must be one of fatal, error, warn, info, debug, trace, silent`);
  const secretKey = str('ANSFLOW_SECRET_KEY');
  if (secretKey !== null && secretKey.length < 32) problems.push('ANSFLOW_SECRET_KEY must be at least 32 characters');
  const secretKeyPrevious = (str('ANSFLOW_SECRET_KEY_PREVIOUS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (secretKeyPrevious.some((k) => k.length < 32)) problems.push('ANSFLOW_SECRET_KEY_PREVIOUS must be comma-separated keys of at least 32 characters each');
  if (secretKeyPrevious.length > 0 && secretKey === null) problems.push('ANSFLOW_SECRET_KEY_PREVIOUS needs ANSFLOW_SECRET_KEY (the new key) to be set');

  const config: Config = {
    host,
    apiPort: int('ANSFLOW_API_PORT', 8000, 0, 65535),
    gatewayPort: int('ANSFLOW_GATEWAY_PORT', 8001, 0, 65535),
    dataDir: resolve(str('ANSFLOW_DATA_DIR') ?? './data'),
    databaseUrl,
    redisUrl: url('ANSFLOW_REDIS_URL', ['redis', 'rediss']),
    redisPrefix: str('ANSFLOW_REDIS_PREFIX') ?? 'ansflow',
    rabbitmqUrl: url('ANSFLOW_RABBITMQ_URL', ['amqp', 'amqps']),
    secretKey,
    secretKeyPrevious,
    adminPassword: str('ANSFLOW_ADMIN_PASSWORD'),
    githubWebhookSecret: str('ANSFLOW_GITHUB_WEBHOOK_SECRET'),
    gitlabWebhookToken: str('ANSFLOW_GITLAB_WEBHOOK_TOKEN'),
    jenkins: jenkinsUrl ? { url: jenkinsUrl.replace(/\/+$/, ''), user: str('ANSFLOW_JENKINS_USER'), token: str('ANSFLOW_JENKINS_TOKEN') } : null,
    allowLocalRepositories: bool('ANSFLOW_ALLOW_LOCAL_REPOSITORIES', false),
    maxConcurrentRuns: int('ANSFLOW_MAX_CONCURRENT_RUNS', 4, 1, 1000),
    maxRunsPerPipeline: int('ANSFLOW_MAX_RUNS_PER_PIPELINE', 0, 0, 1000),
    workspaceRetentionHours: int('ANSFLOW_WORKSPACE_RETENTION_HOURS', 24, 0, 24 * 365),
    inventoryCheckSyncHosts: int('ANSFLOW_INVENTORY_CHECK_SYNC_HOSTS', 20, 0, 100_000),
    retentionKeepRuns: int('ANSFLOW_RETENTION_KEEP_RUNS', 0, 0, 10_000_000),
    retentionKeepDays: int('ANSFLOW_RETENTION_KEEP_DAYS', 0, 0, 36_500),
    retentionSweepSeconds: int('ANSFLOW_RETENTION_SWEEP_SECONDS', 300, 1, 86_400),
    retentionBatch: int('ANSFLOW_RETENTION_BATCH', 100, 1, 10_000),
    auditRetentionDays: int('ANSFLOW_AUDIT_RETENTION_DAYS', 0, 0, 36_500),
    cancelGraceSeconds: int('ANSFLOW_CANCEL_GRACE_SECONDS', 5, 0, 600),
    maxParallelSteps: int('ANSFLOW_MAX_PARALLEL_STEPS', 8, 1, 1000),
    workerLeaseSeconds: int('ANSFLOW_WORKER_LEASE_SECONDS', 30, 1, 3600),
    accessTokenTtlSeconds: int('ANSFLOW_ACCESS_TOKEN_TTL', 900, 10, 86400),
    refreshTokenTtlSeconds: int('ANSFLOW_REFRESH_TOKEN_TTL', 7 * 86400, 60, 365 * 86400),
    logLevel,
    trustProxy: bool('ANSFLOW_TRUST_PROXY', false),
    sandbox: sandboxSwitch(),
    sandboxUid: int('ANSFLOW_SANDBOX_UID', 61000, 1, 2 ** 31 - 2),
    sandboxHide: (str('ANSFLOW_SANDBOX_HIDE') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => resolve(p)),
    stepLimits: {
      memoryBytes: size('ANSFLOW_STEP_MEMORY_LIMIT', '2g'),
      processes: limitCount('ANSFLOW_STEP_PROCESS_LIMIT', 1024),
      cpus: cpus('ANSFLOW_STEP_CPUS'),
      fileSizeBytes: size('ANSFLOW_STEP_FILE_SIZE_LIMIT', '8g'),
    },
    stepTmpBytes: size('ANSFLOW_STEP_TMP_SIZE', '1g') ?? 1024 ** 3,
    allowMetadataAddresses: bool('ANSFLOW_ALLOW_METADATA_ADDRESSES', false),
    metricsToken: str('ANSFLOW_METRICS_TOKEN'),
    metricsListen: listenAddress('ANSFLOW_METRICS_LISTEN', str('ANSFLOW_METRICS_LISTEN'), DEFAULT_METRICS_LISTEN, problems),
    forge: {
      publicUrl: url('ANSFLOW_PUBLIC_URL', ['http', 'https'])?.replace(/\/+$/, '') ?? null,
      githubApiUrl: url('ANSFLOW_GITHUB_API_URL', ['http', 'https'])?.replace(/\/+$/, '') ?? null,
      githubToken: str('ANSFLOW_GITHUB_TOKEN'),
      gitlabApiUrl: url('ANSFLOW_GITLAB_API_URL', ['http', 'https'])?.replace(/\/+$/, '') ?? null,
      gitlabToken: str('ANSFLOW_GITLAB_TOKEN'),
    },
    notifications: {
      timeoutMs: int('ANSFLOW_NOTIFY_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
      maxAttempts: int('ANSFLOW_NOTIFY_MAX_ATTEMPTS', 6, 1, 20),
      retryBaseMs: int('ANSFLOW_NOTIFY_RETRY_SECONDS', 5, 1, 3600) * 1000,
    },
    webhookRateLimit: int('ANSFLOW_WEBHOOK_RATE_LIMIT', 1200, 1, 1_000_000_000),
    wsHandshakeRateLimit: int('ANSFLOW_WS_HANDSHAKE_RATE_LIMIT', 120, 1, 1_000_000_000),
    // Single sign-on and password login (src/sso-config.ts).
    ...loadSsoConfig(env, problems),
    // Artifacts, caches and workspace snapshots (src/outputs-config.ts).
    ...loadOutputsConfig(env, problems),
    ...overrides,
  };
  if (config.metricsToken !== null && config.metricsToken.length < 16) problems.push('ANSFLOW_METRICS_TOKEN must be at least 16 characters');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(config.redisPrefix)) problems.push('ANSFLOW_REDIS_PREFIX must be 1-64 letters, digits, _ . or -');
  if (config.apiPort !== 0 && config.apiPort === config.gatewayPort) problems.push('ANSFLOW_API_PORT and ANSFLOW_GATEWAY_PORT must differ');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';

/** `host:port` (`[::1]:9464` for IPv6) or `off`; the default is marked so a busy default port only warns. */
function listenAddress(name: string, raw: string | null, fallback: string, problems: string[]): { host: string; port: number; explicit: boolean } | null {
  if (raw !== null && raw.toLowerCase() === 'off') return null;
  const match = /^(?:\[(?<v6>[0-9A-Fa-f:.]+)\]|(?<host>[^:]+)):(?<port>\d{1,5})$/.exec(raw ?? fallback);
  const host = match?.groups?.v6 ?? match?.groups?.host ?? '';
  const port = Number(match?.groups?.port);
  if (!match || (isIP(host) === 0 && host !== 'localhost') || port > 65535) {
    problems.push(`${name}="${raw}" must be host:port with an IP address (127.0.0.1:9464, [::1]:9464) or off`);
    return null;
  }
  return { host, port, explicit: raw !== null };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The admin password for first start: required on a non-loopback bind, `admin123` only on loopback. */
export function initialAdminPassword(config: Config): string {
  if (config.adminPassword) return config.adminPassword;
  if (isLoopback(config.host)) return 'admin123';
  throw new ConfigError([
    `ANSFLOW_HOST=${config.host} is not a loopback address: set ANSFLOW_ADMIN_PASSWORD so the admin user does not get a default password`,
  ]);
}
