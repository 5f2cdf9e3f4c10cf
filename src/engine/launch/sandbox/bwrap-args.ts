/**
 * The bubblewrap command line of one run's sandbox (pure: paths and descriptor numbers in, argv out).
 *
 * What the sandbox shows, in the order bubblewrap applies it (a later mount covers an earlier one):
 *   1. the host's file system, read-only;
 *   2. a fresh /dev and a /proc of the sandbox's own PID namespace;
 *   3. empty, private /tmp, /var/tmp and /run (sockets of host services live in /run);
 *   4. empty folders over what the platform keeps to itself: the data folder (database, secret
 *      key, logs, other runs' workspaces), the workspace root, the server's home;
 *   5. the folders a step needs back inside those, read-only: the application (the spawner's
 *      code) and Node itself when they live there — and hidden again what lies inside those;
 *   6. /dev/null over files that hold secrets outside those folders (`.env`);
 *   7. read-only paths the run may read (local repositories, when the operator allows them);
 *   8. the run's workspace and home, writable: the only writable places besides /tmp;
 *   9. /etc/passwd and /etc/group naming the step's user (ssh refuses a uid without an entry).
 *
 * Namespaces: mount, PID, IPC, UTS, cgroup, and a user namespace when the server is not root; the
 * network is the host's (git and ansible need it; a step asks for none on its own). bubblewrap
 * sets no_new_privs; the step holds no capability; with --die-with-parent the sandbox, and with
 * its PID namespace every process in it, ends when the spawner that started it does.
 */

export interface SandboxMounts {
  /** Folders hidden behind an empty tmpfs. */
  hiddenDirs: readonly string[];
  /** Files hidden behind /dev/null (only those that exist). */
  hiddenFiles: readonly string[];
  /** Read-only folders shown again inside hidden ones. */
  revealed: readonly string[];
  /** Extra read-only paths of this run. */
  readOnly: readonly string[];
  /** Writable folders of this run (workspace, home). */
  writable: readonly string[];
  /** passwd and group files naming the step's user (when the host's do not). */
  identity?: { passwd: string; group: string };
  /** Host folders to show again read-only inside the emptied /run, when they exist (DNS). */
  runKeep: readonly string[];
}

export interface SandboxIdentity {
  uid: number;
  gid: number;
}

export interface BwrapInput {
  mounts: SandboxMounts;
  /**
   * `user-namespace`: bubblewrap runs as the step's user (the server's own, not root) and maps it
   * into a user namespace. `setuid`: bubblewrap runs as root (the server), builds the sandbox with
   * root's right to walk every path, and the command it starts (setpriv) drops to the step's user.
   */
  privileges: { mode: 'user-namespace'; identity: SandboxIdentity } | { mode: 'setuid' };
  /** Size of the private /tmp (bytes). */
  tmpBytes: number;
  /** The working directory the sandbox starts in. */
  cwd: string;
}

export function bwrapArgs(input: BwrapInput): string[] {
  const { mounts } = input;
  const hidden = mounts.hiddenDirs;
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--perms', '1777', '--tmpfs', '/dev/shm'];
  const tmp = String(input.tmpBytes);
  args.push('--perms', '1777', '--size', tmp, '--tmpfs', '/tmp', '--perms', '1777', '--size', tmp, '--tmpfs', '/var/tmp', '--tmpfs', '/run');
  for (const keep of mounts.runKeep) args.push('--ro-bind-try', keep, keep);
  for (const dir of hidden) args.push('--tmpfs', dir);
  const made = new Set<string>();
  // Mount points inside an emptied folder are made by bubblewrap; they must be walkable by the
  // step's user (ANSFLOW_WORKSPACE is an absolute path), so they are made here, 0755.
  const mountPoint = (path: string) => {
    const ancestor = [...hidden, '/tmp', '/var/tmp', '/run'].filter((h) => isWithin(path, h) && h !== path).sort((a, b) => b.length - a.length)[0];
    if (ancestor === undefined) return;
    const parts = path
      .slice(ancestor.length + 1)
      .split('/')
      .slice(0, -1);
    let dir = ancestor;
    for (const part of parts) {
      dir = `${dir}/${part}`;
      if (made.has(dir)) continue;
      made.add(dir);
      args.push('--perms', '0755', '--dir', dir);
    }
  };
  for (const dir of mounts.revealed) {
    mountPoint(dir);
    args.push('--ro-bind', dir, dir);
  }
  // A folder shown again brings back what it holds: hide again what lies inside it (./data).
  for (const dir of hidden) if (mounts.revealed.some((r) => dir !== r && isWithin(dir, r))) args.push('--tmpfs', dir);
  for (const file of mounts.hiddenFiles) args.push('--ro-bind', '/dev/null', file);
  for (const path of mounts.readOnly) {
    mountPoint(path);
    args.push('--ro-bind', path, path);
  }
  for (const path of mounts.writable) {
    mountPoint(path);
    args.push('--bind', path, path);
  }
  if (mounts.identity) args.push('--ro-bind', mounts.identity.passwd, '/etc/passwd', '--ro-bind', mounts.identity.group, '/etc/group');
  if (input.privileges.mode === 'user-namespace') {
    const { identity } = input.privileges;
    args.push('--unshare-user', '--uid', String(identity.uid), '--gid', String(identity.gid));
  }
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'ansflow-step', '--die-with-parent', '--chdir', input.cwd);
  return args;
}

/**
 * Which of `dirs` must be hidden, in an order where a folder comes before folders inside it,
 * without duplicates and without `/` (hiding the root would hide everything).
 */
export function hiddenInOrder(dirs: Iterable<string>): string[] {
  const unique = [...new Set([...dirs].map((d) => d.replace(/\/+$/, '')).filter((d) => d !== '' && d.startsWith('/')))];
  return unique.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/** Whether `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}
