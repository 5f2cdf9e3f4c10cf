#!/usr/bin/env node
/**
 * The `ansflow` command. Each subcommand lives in its own file; this one only dispatches.
 */
import { config as loadDotenv } from 'dotenv';
import { ConfigError } from '../config.js';
import { CliError } from './cli-error.js';

const USAGE = `Usage: ansflow <command> [options]

Commands:
  serve                 run the API (8000), the gateway (8001) and a worker
  worker                run pipeline steps only (scale-out: many workers, one queue)
  migrate               apply database migrations and exit
  user create           create a user
  user set-password     set a user's password
  run                   trigger a pipeline run and follow it
  approve RUN           approve a run waiting for approval at its environment
  reject RUN            reject a run waiting for approval (it ends cancelled)
  retry RUN             retry a finished run from its failed steps (--from STEP: from that step)
  artifacts RUN         list a run's artifacts; artifacts download RUN ARTIFACT saves one
  caches PIPELINE       a pipeline's caches and hit rate; --clear removes them
  inventory             list, push (create or new version), show and check stored Ansible inventories
  lint [FILE]           check a pipeline file (.ansflow.yml) offline
  login                 store a personal access token for the CLI (logout revokes it)
  secret-key rotate     re-encrypt credentials and secret variables under a new key
  backup FILE           write the database, key ring and logs into one archive (servers may keep running)
  restore FILE          unpack a backup into an empty data folder

Run 'ansflow <command> --help' for a command's options.
Configuration comes from ANSFLOW_* environment variables (and a .env file).`;

type Command = (argv: string[]) => Promise<number>;

/** Each command's module is loaded only when chosen, so `ansflow run` or `--help` does not load the server. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  migrate: async () => (await import('./migrate.js')).migrateCommand,
  user: async () => (await import('./user.js')).userCommand,
  worker: async () => (await import('./worker.js')).workerCommand,
  run: async () => (await import('./run.js')).runCommand,
  approve: async () => (await import('./approve.js')).approveCommand,
  reject: async () => (await import('./approve.js')).rejectCommand,
  retry: async () => (await import('./outputs.js')).retryCommand,
  artifacts: async () => (await import('./outputs.js')).artifactsCommand,
  caches: async () => (await import('./outputs.js')).cachesCommand,
  inventory: async () => (await import('./inventory.js')).inventoryCommand,
  lint: async () => (await import('./lint.js')).lintCommand,
  login: async () => (await import('./login.js')).loginCommand,
  logout: async () => (await import('./login.js')).logoutCommand,
  'secret-key': async () => (await import('./secret-key.js')).secretKeyCommand,
  backup: async () => (await import('./backup.js')).backupCommand,
  restore: async () => (await import('./backup.js')).restoreCommand,
};

export async function main(argv: string[]): Promise<number> {
  loadDotenv({ quiet: true });
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) {
    console.error(`ansflow: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const run = await load();
  try {
    return await run(rest);
  } catch (error) {
    // A failed migration (store/migration-runner.ts, matched by name: importing it would load Kysely
    // for every command) is a reason to refuse, not a crash: its message says what and why.
    if (error instanceof ConfigError || error instanceof CliError || (error instanceof Error && error.name === 'MigrationError')) {
      console.error(`ansflow ${command}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
