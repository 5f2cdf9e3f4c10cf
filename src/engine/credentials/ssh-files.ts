/**
 * An ssh_key credential as files ssh can use, and the ssh command that uses only them.
 *
 * The command trusts nothing but the credential: its key alone (IdentitiesOnly, no agent, no
 * ~/.ssh/config thanks to `-F /dev/null`), its known_hosts alone (no global file), and strict host
 * key checking, so an unknown host fails instead of being trusted on first use.
 *
 * A passphrase never goes on a command line: it sits in a 0600 file that a small askpass script
 * prints, and ssh is told to use that script (SSH_ASKPASS_REQUIRE=force, no terminal needed).
 * BatchMode=yes would forbid asking for a passphrase at all, so a protected key gets BatchMode=no
 * with every interactive method off and one passphrase attempt instead.
 */
import { join } from 'node:path';
import type { SshKeySecret } from '../../domain/credentials.js';
import type { FileOwner } from '../ports.js';
import { writePrivateFile } from './private-files.js';
import { shellQuote } from './shell-quote.js';

export interface SshFiles {
  keyFile: string;
  knownHostsFile: string;
  /** `ssh …` with quoted paths: for GIT_SSH_COMMAND (environment variables apart, see `env`). */
  command: string;
  /** SSH_ASKPASS and SSH_ASKPASS_REQUIRE for a passphrase-protected key; empty otherwise. */
  env: Record<string, string>;
  /** The command with `env` prefixed, for places that take one shell string (core.sshCommand). */
  commandWithEnv: string;
  /** The command's arguments after `ssh -i <key>`, quoted for sh (Ansible's ssh_common_args). */
  arguments: string;
}

/** Writes the key, known_hosts and (for a protected key) the passphrase and askpass script into `folder`. */
export async function writeSshFiles(folder: string, secret: SshKeySecret, owner: FileOwner | undefined, opts: { user?: string } = {}): Promise<SshFiles> {
  const keyFile = join(folder, 'id_key');
  const knownHostsFile = join(folder, 'known_hosts');
  // ssh refuses a key without its final newline ("invalid format"); keys pasted in forms often lose it.
  await writePrivateFile(keyFile, withFinalNewline(secret.private_key.replace(/\r\n/g, '\n')), owner);
  await writePrivateFile(knownHostsFile, withFinalNewline(secret.known_hosts ?? ''), owner);

  const options = [
    ['IdentitiesOnly', 'yes'],
    ['IdentityAgent', 'none'],
    ['UserKnownHostsFile', knownHostsFile],
    ['GlobalKnownHostsFile', '/dev/null'],
    ['StrictHostKeyChecking', 'yes'],
    ...(opts.user ? [['User', opts.user]] : []),
  ];
  const env: Record<string, string> = {};
  if (secret.passphrase) {
    const passphraseFile = join(folder, 'passphrase');
    const askpass = join(folder, 'askpass');
    await writePrivateFile(passphraseFile, secret.passphrase, owner);
    await writePrivateFile(
      askpass,
      `#!/bin/sh\n# Written by AnsFlow: gives ssh the key's passphrase from a 0600 file.\nexec cat -- ${shellQuote(passphraseFile)}\n`,
      owner,
      0o700,
    );
    env.SSH_ASKPASS = askpass;
    env.SSH_ASKPASS_REQUIRE = 'force';
    options.push(['BatchMode', 'no'], ['NumberOfPasswordPrompts', '1'], ['PasswordAuthentication', 'no'], ['KbdInteractiveAuthentication', 'no']);
  } else {
    options.push(['BatchMode', 'yes']);
  }
  const args = [...options.flatMap(([k, v]) => ['-o', shellQuote(`${k}=${v}`)]), '-F', '/dev/null'].join(' ');
  const command = `ssh -i ${shellQuote(keyFile)} ${args}`;
  const prefix = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)} `);
  return { keyFile, knownHostsFile, command, env, commandWithEnv: `${prefix.join('')}${command}`, arguments: args };
}

function withFinalNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
