import { loadConfig } from '../config.js';
import { openDb } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { rotateSecretKey, type KeyLocation } from '../services/rotate-secret-key.js';
import { parseOptions } from './options.js';
import { CliError } from './cli-error.js';

const HELP = `Usage: ansflow secret-key rotate [--from-env] [--batch-size N]

Re-encrypts every credential and every secret variable (of pipelines and of runs) under a new
secret key, while servers keep running and reading them.

Key in the data folder (ANSFLOW_SECRET_KEY not set): a new key is generated into
ANSFLOW_DATA_DIR/secret.key and the old one kept in secret.key.previous until every value is
re-sealed; running servers pick up the new key by themselves. An interrupted rotation is resumed
by running the command again.

Key in the environment (--from-env): first set ANSFLOW_SECRET_KEY to the new key and
ANSFLOW_SECRET_KEY_PREVIOUS to the old one (comma-separated for several), restart every process,
then run this with the same environment; afterwards remove ANSFLOW_SECRET_KEY_PREVIOUS and restart
again. See docs/security.md, "Rotating the secret key".

Options:
  --from-env        the new key is ANSFLOW_SECRET_KEY, the old ones ANSFLOW_SECRET_KEY_PREVIOUS
  --batch-size N    rows read per query (default 200)`;

export async function secretKeyCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || action === '--help' || action === '-h') {
    console.log(HELP);
    return action ? 0 : 2;
  }
  if (action !== 'rotate') throw new CliError(`unknown action "${action}"\n\n${HELP}`);
  const parsed = parseOptions(rest, { 'from-env': { type: 'boolean' }, 'batch-size': { type: 'string' } }, HELP);
  if (!parsed) return 0;
  const batchSize = Number(parsed.values['batch-size'] ?? '200');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) throw new CliError('--batch-size must be a whole number from 1 to 10000');

  const config = loadConfig();
  let location: KeyLocation;
  if (parsed.values['from-env']) {
    if (!config.secretKey) throw new CliError('--from-env needs ANSFLOW_SECRET_KEY (the new key) and ANSFLOW_SECRET_KEY_PREVIOUS (the old one)');
    location = { from: 'environment', keys: { current: config.secretKey, previous: config.secretKeyPrevious } };
  } else {
    if (config.secretKey)
      throw new CliError(
        'ANSFLOW_SECRET_KEY is set, so the key lives in the environment: set the new key there and the old one in ANSFLOW_SECRET_KEY_PREVIOUS, restart, then run with --from-env',
      );
    location = { from: 'data-folder', dataDir: config.dataDir };
  }

  const db = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrateToLatest(db);
    const result = await rotateSecretKey(db.kysely, location, { batchSize, settleMs: 1000, maxPasses: 10, log: (line) => console.log(line) });
    const { credentials, notification_channels: channels, pipelines, runs } = result.resealed;
    console.log(
      `Done: every value is sealed under key ${result.keyId} (${credentials} credentials, ${channels} notification channels, ${pipelines} pipelines, ${runs} runs re-sealed).`,
    );
    if (location.from === 'environment') console.log('Now remove ANSFLOW_SECRET_KEY_PREVIOUS and restart the processes.');
  } finally {
    await db.close();
  }
  return 0;
}
