import { initialAdminPassword, isLoopback, loadConfig } from '../config.js';
import { createLogger } from '../runtime/logger.js';
import { createContext } from '../runtime/context.js';
import { startServers, type Role } from '../runtime/servers.js';
import { startWorker } from '../runtime/worker.js';
import { parseOptions } from './options.js';
import { untilSignal } from './until-signal.js';
import { CliError } from './cli-error.js';
import { announce } from './announce.js';

const HELP = `Usage: ansflow serve [options]

Runs the management API (port 8000), the gateway (port 8001) and an embedded worker.

Options:
  --role <api|gateway|all>   which parts to run (default: all)
  --host <address>           bind address (ANSFLOW_HOST, default 127.0.0.1)
  --port <n>                 API port (ANSFLOW_API_PORT, default 8000)
  --gateway-port <n>         gateway port (ANSFLOW_GATEWAY_PORT, default 8001)
  --data-dir <path>          data folder (ANSFLOW_DATA_DIR, default ./data)
  -h, --help                 show this help`;

export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(
    argv,
    { role: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, 'gateway-port': { type: 'string' }, 'data-dir': { type: 'string' } },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const role = (v.role ?? 'all') as Role;
  if (!['api', 'gateway', 'all'].includes(role)) throw new CliError(`--role must be api, gateway or all\n\n${HELP}`);
  const env = { ...process.env };
  if (v.host) env.ANSFLOW_HOST = v.host;
  if (v.port) env.ANSFLOW_API_PORT = v.port;
  if (v['gateway-port']) env.ANSFLOW_GATEWAY_PORT = v['gateway-port'];
  if (v['data-dir']) env.ANSFLOW_DATA_DIR = v['data-dir'];
  const config = loadConfig(env);
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
  announce(lines, { role, api: servers.apiUrl, gateway: servers.gatewayUrl, metrics: servers.metricsUrl });

  // Stop taking requests, let running steps finish for a grace period, then stop them.
  await untilSignal(logger, 'server', async () => {
    await servers.close();
    await worker?.stop(config.cancelGraceSeconds * 1000 + 5000);
    await ctx.close();
  });
  return 0;
}
