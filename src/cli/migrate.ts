import { loadConfig } from '../config.js';
import { openDb } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { parseOptions } from './options.js';

const HELP = `Usage: ansflow migrate

Applies the database migrations (SQLite in ANSFLOW_DATA_DIR, or ANSFLOW_DATABASE_URL) and exits.
The server also migrates at start; this is for deployments that migrate in a separate step.`;

export async function migrateCommand(argv: string[]): Promise<number> {
  if (!parseOptions(argv, {}, HELP)) return 0;
  const config = loadConfig();
  const db = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
  } finally {
    await db.close();
  }
  return 0;
}
