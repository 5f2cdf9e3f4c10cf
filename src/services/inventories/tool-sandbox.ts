/**
 * A one-shot bubblewrap sandbox for the platform's own Ansible commands that read user content
 * outside any run (`ansible-inventory` on an inventory being saved, the connectivity check).
 *
 * Ansible's inventory plugins can run code (`script`, `constructed` with lookups), so even though
 * only the `ini` and `yaml` plugins are enabled, the command gets no more than a step would: the
 * host's file system read-only, the data folder, the server's home and /root hidden, a private
 * /tmp, one writable work folder, no network unless asked, and — when the server is root — the
 * sandbox user (setpriv drops to it, named in the sandbox's /etc/passwd as steps do), never root.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { hiddenInOrder } from '../../engine/launch/sandbox/bwrap-args.js';
import { writeIdentityFiles } from '../../engine/launch/sandbox/sandbox-settings.js';

export interface ToolSandbox {
  /** The argv that runs `argv` inside the sandbox, `workDir` writable; `network` keeps the host's. */
  wrap(argv: readonly string[], workDir: string, options?: { network?: boolean }): string[];
  /** The uid and gid the command runs as (the work folder must be theirs), or null for the server's own. */
  readonly owner: { uid: number; gid: number } | null;
}

export interface ToolSandboxOptions {
  /** ANSFLOW_SANDBOX: off runs commands directly. */
  enabled: boolean;
  dataDir: string;
  /** The step user's uid when the server is root (ANSFLOW_SANDBOX_UID). */
  uid: number;
  extraHidden: readonly string[];
}

/** The sandbox, or why there is none (commands are then refused, as steps are). */
export function makeToolSandbox(options: ToolSandboxOptions): ToolSandbox | { unavailable: string } | null {
  if (!options.enabled) return null;
  const bwrap = which('bwrap');
  const setpriv = which('setpriv');
  if (!bwrap || !setpriv) return { unavailable: 'bubblewrap and setpriv are needed to run Ansible on user content (ANSFLOW_SANDBOX=off runs it unsandboxed)' };
  const root = process.getuid?.() === 0;
  const hidden = hiddenInOrder([resolve(options.dataDir), homedir(), '/root', ...options.extraHidden.map((p) => resolve(p))]);
  const owner = root ? { uid: options.uid, gid: options.uid } : null;
  // ssh refuses a uid without a passwd entry (the connectivity check): the host's files plus the sandbox user.
  const identity = owner ? writeIdentityFiles(join(resolve(options.dataDir), 'sandbox', 'tools'), owner) : null;
  const sandbox: ToolSandbox = {
    owner,
    wrap(argv, workDir, opts = {}) {
      // Ansible's multiprocessing needs a writable /dev/shm (as in a step's sandbox); a private /tmp the
      // sandbox user may write (ansible_connection=local makes its temporary folders there).
      const args = [
        bwrap,
        '--ro-bind',
        '/',
        '/',
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        '--perms',
        '1777',
        '--tmpfs',
        '/dev/shm',
        // A private /tmp the sandbox user may write (ansible_connection=local makes its temporary folders there).
        '--perms',
        '1777',
        '--tmpfs',
        '/tmp',
        '--tmpfs',
        '/run',
      ];
      if (opts.network) args.push('--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve');
      for (const dir of hidden) args.push('--tmpfs', dir);
      if (identity) args.push('--ro-bind', identity.passwd, '/etc/passwd', '--ro-bind', identity.group, '/etc/group');
      args.push('--bind', workDir, workDir);
      if (!root) args.push('--unshare-user');
      args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try');
      if (!opts.network) args.push('--unshare-net');
      args.push('--die-with-parent', '--new-session', '--chdir', workDir, '--');
      if (owner) args.push(setpriv, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--');
      return [...args, ...argv];
    },
  };
  const probe = spawnSync(sandbox.wrap(['true'], '/')[0]!, sandbox.wrap(['true'], '/').slice(1), { timeout: 10_000, encoding: 'utf8' });
  if (probe.status !== 0) return { unavailable: `bubblewrap cannot create namespaces here: ${(probe.stderr || `exit ${String(probe.status)}`).trim()}` };
  return sandbox;
}

function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
