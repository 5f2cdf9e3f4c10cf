/**
 * What one Ansible step needs on disk, written into its private folder under the run's HOME
 * (`$HOME/.ansflow/ansible/<step id>/`, 0700, files 0600; engine/credentials/private-files.ts)
 * and removed when the step ends:
 *
 *   inventory.ini|yml   a stored inventory's text
 *   ssh/                the ssh_key credential: key, known_hosts (strict checking: an unknown
 *                       host key is refused), askpass for a protected key (ssh-files.ts)
 *   become-password     the username_password credential's password (--become-password-file)
 *   vault-<n>           each vault password (--vault-id <id>@<file>)
 *   extra-vars.json     the step's extra_vars (--extra-vars=@<file>)
 *   callbacks/          the events callback plugin (events-callback.ts)
 *   events.jsonl        where the plugin writes, read by the executor as it grows
 *
 * Passwords go to Ansible only as files named on its command line: never as values in argv,
 * in extra-vars or in the environment (argv is visible to every process through /proc).
 */
import { join } from 'node:path';
import type { ResolvedCredential } from '../../../domain/credentials.js';
import type { ResolvedInventory } from '../../../domain/inventories.js';
import type { FileOwner } from '../../ports.js';
import { privateFolder, removePrivateFolder, writePrivateFile } from '../../credentials/private-files.js';
import { writeSshFiles } from '../../credentials/ssh-files.js';
import { EVENTS_CALLBACK_NAME, EVENTS_CALLBACK_SOURCE } from './events-callback.js';

export interface AnsibleConnection {
  inventory?: ResolvedInventory;
  ssh?: ResolvedCredential;
  become?: ResolvedCredential;
  vault: ResolvedCredential[];
}

export interface AnsibleFiles {
  /** Arguments to add (each option with its value in one argument). */
  args: string[];
  env: Record<string, string>;
  eventsFile: string;
  remove(): Promise<void>;
}

export async function writeAnsibleFiles(input: {
  home: string;
  stepId: number;
  owner: FileOwner | undefined;
  connection: AnsibleConnection;
  /** The step's extra_vars: a JSON file given as `--extra-vars=@file` (values never in argv). */
  extraVars?: Record<string, unknown>;
}): Promise<AnsibleFiles> {
  const { home, owner, connection } = input;
  const folder = await privateFolder(home, ['.ansflow', 'ansible', String(input.stepId)], owner, { fresh: true });
  try {
    const args: string[] = [];
    const env: Record<string, string> = {};
    const callbacks = await privateFolder(folder, ['callbacks'], owner);
    await writePrivateFile(join(callbacks, `${EVENTS_CALLBACK_NAME}.py`), EVENTS_CALLBACK_SOURCE, owner);
    const eventsFile = join(folder, 'events.jsonl');
    await writePrivateFile(eventsFile, '', owner);
    env.ANSIBLE_CALLBACK_PLUGINS = callbacks;
    env.ANSIBLE_CALLBACKS_ENABLED = EVENTS_CALLBACK_NAME;
    env.ANSFLOW_ANSIBLE_EVENTS = eventsFile;

    if (connection.inventory) {
      const file = join(folder, connection.inventory.format === 'ini' ? 'inventory.ini' : 'inventory.yml');
      await writePrivateFile(file, connection.inventory.content, owner);
      args.push(`--inventory=${file}`);
      // Read as it was parsed when saved: by the plugin of its format only (nothing else runs).
      env.ANSIBLE_INVENTORY_ENABLED = connection.inventory.format;
    }
    if (connection.ssh?.secret.kind === 'ssh_key') {
      const secret = connection.ssh.secret.value;
      const ssh = await writeSshFiles(await privateFolder(folder, ['ssh'], owner), secret, owner);
      env.ANSIBLE_PRIVATE_KEY_FILE = ssh.keyFile;
      env.ANSIBLE_SSH_COMMON_ARGS = ssh.arguments;
      env.ANSIBLE_HOST_KEY_CHECKING = 'True';
      if (secret.username) env.ANSIBLE_REMOTE_USER = secret.username;
      Object.assign(env, ssh.env);
    }
    if (connection.become?.secret.kind === 'username_password') {
      const file = join(folder, 'become-password');
      await writePrivateFile(file, `${connection.become.secret.value.password}\n`, owner);
      args.push(`--become-password-file=${file}`, `--become-user=${connection.become.secret.value.username}`);
    }
    for (const [i, credential] of connection.vault.entries()) {
      if (credential.secret.kind !== 'ansible_vault_password') continue;
      const file = join(folder, `vault-${i}`);
      await writePrivateFile(file, `${credential.secret.value.password}\n`, owner);
      args.push(credential.secret.value.vault_id ? `--vault-id=${credential.secret.value.vault_id}@${file}` : `--vault-password-file=${file}`);
    }
    if (input.extraVars) {
      const file = join(folder, 'extra-vars.json');
      await writePrivateFile(file, JSON.stringify(input.extraVars), owner);
      args.push(`--extra-vars=@${file}`);
    }
    return { args, env, eventsFile, remove: () => removePrivateFolder(folder) };
  } catch (error) {
    await removePrivateFolder(folder);
    throw error;
  }
}
