/**
 * `ansflow inventory`: stored Ansible inventories through the API (docs/ansible.md).
 *   list [--project P]                         name, format, version, hosts of each
 *   push NAME FILE [--project P] [--format F] [--ssh-credential C]
 *                                              create it, or save FILE as its next version
 *   hosts NAME [--project P]                   every host with its groups (secrets masked)
 *   check ID|NAME [--limit PATTERN]            connectivity check: each host's answer as it comes,
 *                                              followed live to its end (inventory-check.ts); exit 1
 *                                              when a host is unreachable or failed
 */
import { readFileSync } from 'node:fs';
import { connectApi, type ApiClient } from './api-client.js';
import { CliError } from './cli-error.js';
import { parseOptions } from './options.js';
import { checkInventory } from './inventory-check.js';

const HELP = `Usage: ansflow inventory <list|push|hosts|check> [options]

  list                         the inventories you can read (name, project, format, version, hosts)
  push NAME FILE               create the inventory NAME from FILE, or save FILE as its next version
                               (Ansible parses it: a syntax error names the line)
  hosts NAME                   every host of NAME with its groups and last check
  check ID|NAME                check the hosts' connectivity (Ansible ping and facts): one line a
                               host as it answers (reachable with OS and Python, or unreachable/failed
                               with the reason), followed live over the gateway's WebSocket (read
                               every second instead, said on stderr, when it cannot connect); then
                               the counts; exits 1 when a host is not reachable

Options:
  --project <id>          the project (default: the \`default\` project; list: all you can read)
  --format <ini|yaml>     push: the file's format (default: from its extension, else ini)
  --ssh-credential <name> push: the ssh_key credential the inventory connects with
  --limit <pattern>       check: only these hosts or groups (as ansible --limit)
  --url, --token, --user, --password-stdin   as for \`ansflow run\``;

interface Inventory {
  id: number;
  project_id: number;
  name: string;
  format: string;
  version: number;
  host_count: number;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string[];
  description: string;
}

export async function inventoryCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(
    argv,
    {
      project: { type: 'string' },
      format: { type: 'string' },
      'ssh-credential': { type: 'string' },
      limit: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      user: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [action, ...args] = parsed.positionals;
  const v = parsed.values;
  const project = v.project === undefined ? undefined : Number(v.project);
  if (project !== undefined && !Number.isInteger(project)) throw new CliError('--project must be a project id');
  const api = await connectApi({ url: v.url, token: v.token, user: v.user, passwordStdin: v['password-stdin'] });
  switch (action) {
    case 'list': {
      const page = (await api.call('GET', `/api/inventories/?page_size=100${project ? `&project=${project}` : ''}`)) as { results: Inventory[] };
      for (const i of page.results) console.log(`${i.name}\tproject ${i.project_id}\t${i.format}\tversion ${i.version}\t${i.host_count} hosts`);
      return 0;
    }
    case 'push': {
      const [name, file] = args;
      if (!name || !file) throw new CliError(`push needs NAME and FILE\n\n${HELP}`);
      const content = readFileSync(file, 'utf8');
      const format = v.format ?? (/\.ya?ml$/i.test(file) ? 'yaml' : 'ini');
      if (format !== 'ini' && format !== 'yaml') throw new CliError('--format is ini or yaml');
      const existing = await find(api, name, project);
      const body = {
        name,
        format,
        content,
        ...(project !== undefined && { project }),
        ...(existing && {
          description: existing.description,
          become_credential: existing.become_credential,
          vault_credentials: existing.vault_credentials,
          ssh_credential: existing.ssh_credential,
        }),
        ...(v['ssh-credential'] !== undefined && { ssh_credential: v['ssh-credential'] }),
      };
      const saved = (await (existing ? api.call('PUT', `/api/inventories/${existing.id}/`, body) : api.call('POST', '/api/inventories/', body))) as Inventory;
      console.log(`${existing ? 'saved' : 'created'} ${saved.name}: version ${saved.version}, ${saved.host_count} hosts`);
      return 0;
    }
    case 'hosts': {
      const [name] = args;
      if (!name) throw new CliError(`hosts needs NAME\n\n${HELP}`);
      const inventory = await find(api, name, project);
      if (!inventory) throw new CliError(`no inventory named "${name}"`);
      const hosts = (await api.call('GET', `/api/inventories/${inventory.id}/hosts/`)) as Array<{
        name: string;
        groups: string[];
        check: { status: string } | null;
      }>;
      for (const h of hosts) console.log(`${h.name}\t${h.groups.join(',') || '-'}${h.check ? `\t${h.check.status}` : ''}`);
      return 0;
    }
    case 'check': {
      const [which] = args;
      if (!which) throw new CliError(`check needs an inventory id or NAME\n\n${HELP}`);
      const id = /^\d+$/.test(which) ? Number(which) : (await find(api, which, project))?.id;
      if (id === undefined) throw new CliError(`no inventory named "${which}"`);
      return checkInventory(api, id, v.limit);
    }
    default:
      throw new CliError(`unknown action "${action ?? ''}"\n\n${HELP}`);
  }
}

/** The inventory of that name (case-insensitively) in the project, or in any project you can read when only one has it. */
async function find(api: ApiClient, name: string, project: number | undefined): Promise<Inventory | null> {
  const page = (await api.call('GET', `/api/inventories/?page_size=100&search=${encodeURIComponent(name)}${project ? `&project=${project}` : ''}`)) as {
    results: Inventory[];
  };
  const matches = page.results.filter((i) => i.name.toLowerCase() === name.toLowerCase());
  if (matches.length > 1)
    throw new CliError(`inventories named "${name}" are in projects ${matches.map((m) => m.project_id).join(', ')}: say which with --project`);
  return matches[0] ?? null;
}
