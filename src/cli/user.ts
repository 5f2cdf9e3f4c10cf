import { loadConfig } from '../config.js';
import { createLogger } from '../runtime/logger.js';
import { createContext } from '../runtime/context.js';
import { ROLES, type Role } from '../domain/roles.js';
import { AppError } from '../domain/errors.js';
import { parseOptions } from './options.js';
import { CliError } from './cli-error.js';
import { readPassword } from './read-password.js';

const HELP = `Usage:
  ansflow user create <username> [--role admin|developer|viewer] [--email E] [--first-name F] [--last-name L] [--password-stdin]
  ansflow user set-password <username> [--password-stdin]

The password is read from standard input with --password-stdin (one line), else from
ANSFLOW_NEW_PASSWORD, else asked for on the terminal.`;

export async function userCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || action === '--help' || action === '-h') {
    console.log(HELP);
    return action ? 0 : 2;
  }
  const parsed = parseOptions(
    rest,
    {
      role: { type: 'string' },
      email: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const username = parsed.positionals[0];
  if (!username || parsed.positionals.length > 1) throw new CliError(`expected exactly one username\n\n${HELP}`);
  const role = (parsed.values.role ?? 'developer') as Role;
  if (!ROLES.includes(role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
  if (action !== 'create' && action !== 'set-password') throw new CliError(`unknown action "${action}"\n\n${HELP}`);

  const password = await readPassword(parsed.values['password-stdin'] === true);
  const config = loadConfig();
  const ctx = await createContext(config, createLogger('silent'));
  try {
    if (action === 'create') {
      const user = await ctx.users.create({
        username,
        password,
        role,
        ...(parsed.values.email ? { email: parsed.values.email } : {}),
        ...(parsed.values['first-name'] ? { first_name: parsed.values['first-name'] } : {}),
        ...(parsed.values['last-name'] ? { last_name: parsed.values['last-name'] } : {}),
      });
      console.log(`Created user ${user.username} (id ${user.id}, role ${user.role}).`);
    } else {
      const user = await ctx.repos.users.findByUsername(username);
      if (!user) throw new CliError(`no user named "${username}"`);
      await ctx.users.setPassword(user.id, password);
      console.log(`Password of ${user.username} changed; their sessions were revoked.`);
    }
    return 0;
  } catch (error) {
    if (error instanceof AppError) throw new CliError(`${error.message}${Object.keys(error.details).length ? ` ${JSON.stringify(error.details)}` : ''}`);
    throw error;
  } finally {
    await ctx.close();
  }
}
