/**
 * Tests that run real system servers (sshd, nginx, fcgiwrap) need their Debian packages. When one
 * is missing the test says so loudly and skips, except under CI=true, where it fails (.ci/run
 * installs them).
 */
import { accessSync, constants } from 'node:fs';

export interface SystemTool {
  /** Absolute path of the executable. */
  path: string;
  /** The Debian package that provides it. */
  debianPackage: string;
}

export const SSHD: SystemTool = { path: '/usr/sbin/sshd', debianPackage: 'openssh-server' };
export const SSH_KEYGEN: SystemTool = { path: '/usr/bin/ssh-keygen', debianPackage: 'openssh-client' };
export const SSH: SystemTool = { path: '/usr/bin/ssh', debianPackage: 'openssh-client' };
export const NGINX: SystemTool = { path: '/usr/sbin/nginx', debianPackage: 'nginx-light' };
export const FCGIWRAP: SystemTool = { path: '/usr/sbin/fcgiwrap', debianPackage: 'fcgiwrap' };
export const GIT_HTTP_BACKEND: SystemTool = { path: '/usr/lib/git-core/git-http-backend', debianPackage: 'git' };

/**
 * null when every tool is there; otherwise the reason, for `test(name, { skip }, …)`. Throws under
 * CI=true, and warns loudly otherwise.
 */
export function missingTools(what: string, tools: readonly SystemTool[]): string | null {
  const missing = tools.filter((t) => !isExecutable(t.path));
  if (missing.length === 0) return null;
  const message = `${what} need ${missing.map((t) => `${t.path} (Debian package ${t.debianPackage})`).join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: these tests must run)`);
  console.warn(`\n!!! SKIPPING ${what}: ${message}\n`);
  return message;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
