import { loadConfig } from '../config.js';
import { createLogger } from '../runtime/logger.js';
import { createContext } from '../runtime/context.js';
import { startWorker } from '../runtime/worker.js';
import { labelKey, parseLabelKey } from '../domain/labels.js';
import { AppError } from '../domain/errors.js';
import { parseOptions } from './options.js';
import { untilSignal } from './until-signal.js';
import { CliError } from './cli-error.js';
import { announce } from './announce.js';

const HELP = `Usage: ansflow worker [--concurrency N] [--labels a,b]

Runs pipeline steps and nothing else (no HTTP). With ANSFLOW_REDIS_URL and a shared
ANSFLOW_DATABASE_URL (PostgreSQL), any number of workers on any machines take runs from the queue.
Each worker needs its own ANSFLOW_DATA_DIR (workspaces, process records).

Options:
  --concurrency <n>   runs executed at once (ANSFLOW_MAX_CONCURRENT_RUNS, default 4)
  --labels <a,b>      labels this worker offers; runs whose steps say runs_on: [a] come here
  -h, --help          show this help`;

export async function workerCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { concurrency: { type: 'string' }, labels: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const concurrency = v.concurrency === undefined ? undefined : Number(v.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000))
    throw new CliError(`--concurrency must be a whole number from 1 to 1000\n\n${HELP}`);
  let labels: string[] = [];
  try {
    labels = parseLabelKey(
      labelKey(
        (v.labels ?? '')
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      ),
    );
  } catch (error) {
    throw new CliError(error instanceof AppError ? error.message : String(error));
  }
  const config = loadConfig();
  if (!config.redisUrl) console.error('ansflow worker: ANSFLOW_REDIS_URL is not set; this worker only sees runs of this data folder (embedded mode).');
  const logger = createLogger(config.logLevel);
  const ctx = await createContext(config, logger);
  const worker = await startWorker(ctx, { ...(concurrency ? { concurrency } : {}), labels });
  const lines = [
    `AnsFlow worker running (concurrency ${concurrency ?? config.maxConcurrentRuns}, labels: ${labels.join(',') || 'none'}, queue: ${ctx.distributed ? 'redis' : 'embedded'})`,
  ];
  if (worker.sandbox && !worker.sandbox.isolated) lines.push(`  WARNING: steps are not isolated. ${worker.sandbox.detail}`);
  announce(lines, { role: 'worker' });
  await untilSignal(logger, 'worker', async () => {
    await worker.stop(config.cancelGraceSeconds * 1000 + 5000);
    await ctx.close();
  });
  return 0;
}
