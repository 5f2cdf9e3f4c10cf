/**
 * Credentials embedded in an https URL (`https://user:token@host/repo.git`) must never reach
 * argv (visible in every process list) nor a log. They are taken out of the URL and handed to git
 * through a GIT_ASKPASS helper that reads them from environment variables of the git process.
 */
import { join } from 'node:path';
import type { FileOwner } from '../ports.js';
import { privateFolder, writePrivateFile } from '../credentials/private-files.js';

export interface SplitUrl {
  /** The URL without credentials: what git gets in argv and stores in .git/config. */
  url: string;
  username?: string;
  password?: string;
}

export function splitCredentials(rawUrl: string): SplitUrl {
  if (!/^https?:\/\//i.test(rawUrl)) return { url: rawUrl };
  let parsed: URL;
  try {
    parsed = new URL(rawUrl);
  } catch {
    return { url: rawUrl };
  }
  if (!parsed.username && !parsed.password) return { url: rawUrl };
  const username = safeDecode(parsed.username);
  const password = safeDecode(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), ...(username && { username }), ...(password && { password }) };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Values to mask: the password, and a lone username (`https://<token>@host` is a common form). */
export function credentialSecrets(split: SplitUrl): string[] {
  if (split.password) return [split.password];
  return split.username ? [split.username] : [];
}

const ASKPASS_SCRIPT = `#!/bin/sh
# Written by AnsFlow: answers git's credential prompts from the environment, so credentials
# never appear in argv or in .git/config.
case "$1" in
  Username*) printf '%s\\n' "$ANSFLOW_GIT_USERNAME" ;;
  *) printf '%s\\n' "$ANSFLOW_GIT_PASSWORD" ;;
esac
`;

/**
 * Writes the askpass helper into the run's HOME and returns the env that makes git use it. The
 * HOME is the steps' (an earlier step may have planted a symlink there), so the helper goes into a
 * fresh folder through privateFolder/writePrivateFile, owned by the step's user when the sandbox
 * runs steps as another user (git must be able to execute it).
 */
export async function askpassEnv(home: string, split: SplitUrl, owner?: FileOwner): Promise<Record<string, string>> {
  if (split.username === undefined && split.password === undefined) return {};
  const dir = await privateFolder(home, ['.ansflow', 'url-askpass'], owner, { fresh: true });
  const script = join(dir, 'git-askpass.sh');
  await writePrivateFile(script, ASKPASS_SCRIPT, owner, 0o700);
  return {
    GIT_ASKPASS: script,
    ANSFLOW_GIT_USERNAME: split.username ?? '',
    ANSFLOW_GIT_PASSWORD: split.password ?? '',
  };
}
