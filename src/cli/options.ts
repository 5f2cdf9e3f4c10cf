import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';

/** parseArgs with `--help` built in and errors as CliError. Returns null when help was printed. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, help: string, allowPositionals = false) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    if ((parsed.values as Record<string, unknown>).help) {
      console.log(help);
      return null;
    }
    return parsed;
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${help}`);
  }
}
