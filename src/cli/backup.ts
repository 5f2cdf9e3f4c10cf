import { loadConfig } from '../config.js';
import { createBackup, isPostgresUrl } from '../services/backup/create-backup.js';
import { restoreBackup, RestoreRefused } from '../services/backup/restore-backup.js';
import type { BackupManifest } from '../services/backup/backup-manifest.js';
import { parseOptions } from './options.js';
import { CliError } from './cli-error.js';

const BACKUP_HELP = `Usage: ansflow backup FILE

Writes one archive (tar.gz, mode 0600) with what this installation needs to come back: the
database (SQLite: a consistent copy taken while servers keep running), the secret key ring that
opens its secret variables and credentials, the run logs and artifacts. Keep it as safe as the key.
With PostgreSQL the database is not in it: run pg_dump as well (docs/operations.md).

Options:
  --data-dir <path>   data folder (ANSFLOW_DATA_DIR, default ./data)`;

const RESTORE_HELP = `Usage: ansflow restore FILE

Unpacks a backup made by 'ansflow backup' into the data folder, which must be empty or missing;
a folder with anything in it is refused. Start the server on it afterwards.

Options:
  --data-dir <path>   data folder (ANSFLOW_DATA_DIR, default ./data)`;

function configFor(dataDir: string | undefined) {
  const env = { ...process.env };
  if (dataDir) env.ANSFLOW_DATA_DIR = dataDir;
  return loadConfig(env);
}

const summary = (m: BackupManifest) =>
  `${m.counts.pipelines ?? 0} pipelines, ${m.counts.pipeline_runs ?? 0} runs, ${m.counts.credentials ?? 0} credentials, ${m.files} log and artifact files`;

export async function backupCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { 'data-dir': { type: 'string' } }, BACKUP_HELP, true);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new CliError(`name one archive file\n\n${BACKUP_HELP}`);
  const file = parsed.positionals[0]!;
  const config = configFor(parsed.values['data-dir']);
  let manifest: BackupManifest;
  try {
    manifest = await createBackup(config, file);
  } catch (error) {
    throw new CliError(`no backup written: ${(error as Error).message}`);
  }
  console.log(`Backed up ${summary(manifest)} into ${file}.`);
  if (isPostgresUrl(config.databaseUrl))
    console.log('The PostgreSQL database is NOT in this archive: dump it too, e.g. pg_dump --format=custom --file ansflow.pgdump "$ANSFLOW_DATABASE_URL"');
  return 0;
}

export async function restoreCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { 'data-dir': { type: 'string' } }, RESTORE_HELP, true);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new CliError(`name one archive file\n\n${RESTORE_HELP}`);
  const file = parsed.positionals[0]!;
  const config = configFor(parsed.values['data-dir']);
  let manifest: BackupManifest;
  try {
    manifest = await restoreBackup(file, config.dataDir);
  } catch (error) {
    if (error instanceof RestoreRefused) throw new CliError(`nothing restored: ${error.message}`);
    throw error;
  }
  console.log(`Restored ${summary(manifest)} (backup of ${manifest.created_at}) into ${config.dataDir}.`);
  if (manifest.database === 'postgres')
    console.log('This backup holds no database: restore the PostgreSQL dump taken with it (pg_restore) before starting the server.');
  else if (isPostgresUrl(config.databaseUrl))
    console.log('Note: this backup holds a SQLite database, but ANSFLOW_DATABASE_URL points at PostgreSQL; unset it to use the restored one.');
  console.log('Start the server on it: npx ansflow serve');
  return 0;
}
