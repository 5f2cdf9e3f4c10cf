/**
 * Hands a credential to the one step that names it (`credential: <name>`), as files in
 * `$HOME/.ansflow/credentials/<step id>/` and variables of that step only:
 *
 *   ssh_key                 ANSFLOW_SSH_KEY_FILE, ANSFLOW_KNOWN_HOSTS_FILE, GIT_SSH_COMMAND
 *                           (+ SSH_ASKPASS, SSH_ASKPASS_REQUIRE=force for a protected key)
 *   username_password       ANSFLOW_USERNAME, ANSFLOW_PASSWORD
 *   token                   ANSFLOW_TOKEN (+ ANSFLOW_USERNAME when the credential has one)
 *   secret_file             ANSFLOW_SECRET_FILE
 *   ansible_vault_password  ANSFLOW_VAULT_PASSWORD_FILE, ANSIBLE_VAULT_PASSWORD_FILE
 *                           (+ ANSIBLE_VAULT_IDENTITY_LIST `<id>@<file>` for a vault id)
 *
 * Never on a command line or in a URL. HOME is outside the workspace (nothing reaches the
 * checkout or artifacts) and the sandbox shows it to the step; the folder is removed when the step
 * ends, whatever the way it ends.
 */
import { join } from 'node:path';
import type { ResolvedCredential } from '../../domain/credentials.js';
import { assertNever } from '../../domain/status.js';
import type { FileOwner } from '../ports.js';
import { privateFolder, removePrivateFolder, writePrivateFile } from './private-files.js';
import { writeSshFiles } from './ssh-files.js';

export interface StepCredential {
  /** Variables to add to the step's environment. */
  env: Record<string, string>;
  /** Removes the step's credential files (call in `finally`). */
  remove(): Promise<void>;
}

export async function materialiseStepCredential(input: {
  credential: ResolvedCredential;
  home: string;
  stepId: number;
  owner?: FileOwner | undefined;
}): Promise<StepCredential> {
  const { credential, home, owner } = input;
  let folder: string | undefined;
  const remove = async () => {
    if (folder) await removePrivateFolder(folder);
  };
  const makeFolder = async () => (folder = await privateFolder(home, ['.ansflow', 'credentials', String(input.stepId)], owner, { fresh: true }));
  try {
    return { env: await variablesFor(credential, makeFolder, owner), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

async function variablesFor(credential: ResolvedCredential, makeFolder: () => Promise<string>, owner: FileOwner | undefined): Promise<Record<string, string>> {
  const { secret } = credential;
  switch (secret.kind) {
    case 'ssh_key': {
      const ssh = await writeSshFiles(await makeFolder(), secret.value, owner);
      return { ANSFLOW_SSH_KEY_FILE: ssh.keyFile, ANSFLOW_KNOWN_HOSTS_FILE: ssh.knownHostsFile, GIT_SSH_COMMAND: ssh.command, ...ssh.env };
    }
    case 'username_password':
      return { ANSFLOW_USERNAME: secret.value.username, ANSFLOW_PASSWORD: secret.value.password };
    case 'token':
      return { ANSFLOW_TOKEN: secret.value.token, ...(secret.value.username && { ANSFLOW_USERNAME: secret.value.username }) };
    case 'secret_file': {
      const file = join(await makeFolder(), secret.value.filename ?? 'secret');
      const content = secret.value.encoding === 'base64' ? Buffer.from(secret.value.content, 'base64') : secret.value.content;
      await writePrivateFile(file, content, owner);
      return { ANSFLOW_SECRET_FILE: file };
    }
    case 'ansible_vault_password': {
      const file = join(await makeFolder(), 'vault-password');
      await writePrivateFile(file, `${secret.value.password}\n`, owner);
      return {
        ANSFLOW_VAULT_PASSWORD_FILE: file,
        ANSIBLE_VAULT_PASSWORD_FILE: file,
        ...(secret.value.vault_id && { ANSIBLE_VAULT_IDENTITY_LIST: `${secret.value.vault_id}@${file}` }),
      };
    }
    default:
      return assertNever(secret);
  }
}
