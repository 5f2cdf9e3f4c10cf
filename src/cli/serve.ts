import { initialAdminPassword, isLoopback, loadConfig } from '../config.js';
import { createLogger } from '../runtime/logger.js';
import { createContext } from '../runtime/context.js';
import { startServers, type Role } from '../runtime/servers.js';
import { startWorker } from '../runtime/worker.js';
import { parseOptions } from './options.js';
import { untilSignal } from './until-signal.js';
import { CliError } from './cli-error.js';
import { announce } from './announce.js';
import cluster from 'node:cluster';
import { processIndex, roleOfProcess, runPrimary } from './serve-processes.js';

const HELP = `Usage: ansflow serve [options]

Runs the management API (port 8000), the gateway (port 8001) and an embedded worker.

Options:
  --role <api|gateway|all>   which parts to run (default: all)
  --host <address>           bind address (ANSFLOW_HOST, default 127.0.0.1)
  --port <n>                 API port (ANSFLOW_API_PORT, default 8000)
  --gateway-port <n>         gateway port (ANSFLOW_GATEWAY_PORT, default 8001)
  --data-dir <path>          data folder (ANSFLOW_DATA_DIR, default ./data)
  --processes <n>            serve from n processes on the same ports (default 1); the first runs
                             the role, the others the API (or the gateway); needs ANSFLOW_REDIS_URL
  -h, --help                 show this help`;

export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(
    argv,
    {
      role: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'gateway-port': { type: 'string' },
      'data-dir': { type: 'string' },
      processes: { type: 'string' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const asked = (v.role ?? 'all') as Role;
  if (!['api', 'gateway', 'all'].includes(asked)) throw new CliError(`--role must be api, gateway or all\n\n${HELP}`);
  const processes = v.processes === undefined ? 1 : Number(v.processes);
  if (!Number.isInteger(processes) || processes < 1 || processes > 64) throw new CliError(`--processes must be a whole number from 1 to 64\n\n${HELP}`);
  const index = processIndex();
  const role = roleOfProcess(asked, index);
  const env = { ...process.env };
  if (v.host) env.ANSFLOW_HOST = v.host;
  if (v.port) env.ANSFLOW_API_PORT = v.port;
  if (v['gateway-port']) env.ANSFLOW_GATEWAY_PORT = v['gateway-port'];
  if (v['data-dir']) env.ANSFLOW_DATA_DIR = v['data-dir'];
  const config = loadConfig(env);
  if (processes > 1 && cluster.isPrimary) {
    // Cancels, live events and the queue cross processes through Redis only.
    if (!config.redisUrl)
      throw new CliError('--processes above 1 needs ANSFLOW_REDIS_URL: cancels, live events and queued runs cross processes through Redis (docs/deploy.md)');
    return runPrimary(processes, (message) => console.error(message));
  }
  const adminPassword = initialAdminPassword(config);
  const logger = createLogger(config.logLevel);
  const ctx = await createContext(config, logger);
  const created = await ctx.users.ensureAdmin(adminPassword);
  const worker = role === 'all' ? await startWorker(ctx) : null;
  const servers = await startServers(ctx, role);

  const lines = [`AnsFlow is running (role: ${role}, data: ${config.dataDir}, database: ${ctx.db.dialect})`];
  if (servers.apiUrl) lines.push(`  Web UI and API:  ${servers.apiUrl}/   (docs: ${servers.apiUrl}/api/docs/)`);
  if (servers.gatewayUrl && role !== 'api') lines.push(`  Gateway:         ${servers.gatewayUrl}/   (docs: ${servers.gatewayUrl}/docs)`);
  if (servers.metricsUrl) lines.push(`  Metrics:         ${servers.metricsUrl}/metrics   (ANSFLOW_METRICS_LISTEN)`);
  if (created) {
    const shown = config.adminPassword ? '(the password from ANSFLOW_ADMIN_PASSWORD)' : adminPassword;
    lines.push(`  Created the admin user. Log in as: admin / ${shown}`);
    if (!config.adminPassword && isLoopback(config.host)) lines.push('  Change that password before exposing this server: npx ansflow user set-password admin');
  }
  if (servers.apiUrl)
    lines.push(`  Try: curl -s -X POST ${servers.apiUrl}/api/auth/login/ -H 'Content-Type: application/json' -d '{"username":"admin","password":"..."}'`);
  if (worker?.sandbox && !worker.sandbox.isolated) lines.push(`  WARNING: steps are not isolated. ${worker.sandbox.detail}`);
  else if (worker?.sandbox) lines.push(`  Steps run sandboxed (bubblewrap; limits: ${worker.sandbox.detail})`);
  // Under --processes the first process speaks for all; the others only log that they serve.
  if (index === 1)
    announce(lines, { role, api: servers.apiUrl, gateway: servers.gatewayUrl, metrics: servers.metricsUrl, ...(processes > 1 ? { processes } : {}) });
  else logger.info({ role, process: index }, `serving (process ${index} of ${processes}, role ${role})`);

  // Stop taking requests, let running steps finish for a grace period, then stop them.
  await untilSignal(logger, 'server', async () => {
    await servers.close();
    await worker?.stop(config.cancelGraceSeconds * 1000 + 5000);
    await ctx.close();
  });
  // Under --processes the channel to the primary would keep this process alive: let it go.
  if (cluster.isWorker) cluster.worker?.disconnect();
  return 0;
}
