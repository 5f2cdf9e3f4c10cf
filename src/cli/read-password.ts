import { createInterface } from 'node:readline';
import { CliError } from './cli-error.js';

/** A password from stdin (--password-stdin), ANSFLOW_NEW_PASSWORD, or a terminal prompt. */
export async function readPassword(fromStdin: boolean): Promise<string> {
  if (!fromStdin && process.env.ANSFLOW_NEW_PASSWORD) return process.env.ANSFLOW_NEW_PASSWORD;
  if (!fromStdin && !process.stdin.isTTY) throw new CliError('no password: use --password-stdin or set ANSFLOW_NEW_PASSWORD');
  const rl = createInterface({ input: process.stdin, output: fromStdin ? undefined : process.stderr, terminal: !fromStdin });
  if (!fromStdin) process.stderr.write('Password: ');
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  if (!line) throw new CliError('no password given');
  return line;
}
