#!/usr/bin/env node
/**
 * The `ansflow` command. Each subcommand lives in its own file; this one only dispatches.
 */
import { config as loadDotenv } from 'dotenv';
import { ConfigError } from '../config.js';
import { serveCommand } from './serve.js';
import { migrateCommand } from './migrate.js';
import { userCommand } from './user.js';
import { workerCommand } from './worker.js';
import { CliError } from './cli-error.js';

const USAGE = `Usage: ansflow <command> [options]

Commands:
  serve                 run the API (8000), the gateway (8001) and a worker
  worker                run pipeline steps only (scale-out: many workers, one queue)
  migrate               apply database migrations and exit
  user create           create a user
  user set-password     set a user's password
  run                   trigger a pipeline run and follow it

Run 'ansflow <command> --help' for a command's options.
Configuration comes from ANSFLOW_* environment variables (and a .env file).`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  user: userCommand,
  worker: workerCommand,
};

export async function main(argv: string[]): Promise<number> {
  loadDotenv({ quiet: true });
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const run = COMMANDS[command] ?? (command === 'run' ? (await import('./run.js')).runCommand : undefined);
  if (!run) {
    console.error(`ansflow: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CliError) {
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
