/**
 * Finds out, once at start, whether and how steps can be sandboxed here, and what a run's sandbox
 * hides, shows and limits. The result is shown by the start-up message and the system status.
 *
 * Who the step is: when the server runs as root, steps run as an unprivileged user of their own
 * (ANSFLOW_SANDBOX_UID, 61000 by default): root builds the sandbox and setpriv drops to that user
 * before the spawner starts, so nothing in the sandbox holds root's identity or capabilities.
 * Otherwise they run as the server's user, mapped into their own user namespace; the mounts, not
 * the uid, keep the platform's files out of reach.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectCgroups, type Cgroups, type ResolvedLimits } from './cgroups.js';
import { hiddenInOrder, isWithin } from './bwrap-args.js';
import type { SandboxIdentity } from './bwrap-args.js';
import { chooseSandboxSpawner, type SandboxSpawner } from './sandbox-spawner.js';

export interface SandboxSettings {
  bwrap: string;
  prlimit: string;
  unshare: string;
  setpriv: string;
  /** `nice`, to start warm sandboxes at low priority; null when that cannot be undone (not root). */
  nice: string | null;
  /** The spawner inside each run's sandbox (sandbox-spawner.ts): spawner.pl where perl can run it, unless ANSFLOW_SANDBOX_SPAWNER=node; else Node. */
  spawner: SandboxSpawner;
  /** PATH of the spawner inside the sandbox (steps get their own with each launch). */
  path: string;
  /** The step's uid and gid inside the sandbox (mapped to the same ids outside). */
  identity: SandboxIdentity;
  /** Set when the server is root: bubblewrap is started as this user. */
  runAs?: SandboxIdentity;
  hiddenDirs: string[];
  hiddenFiles: string[];
  revealed: string[];
  runKeep: string[];
  /** passwd and group files naming the step's user, when the host's do not. */
  identityFiles?: { passwd: string; group: string };
  defaults: ResolvedLimits;
  cgroups: Cgroups | null;
  tmpBytes: number;
}

export type SandboxState =
  { mode: 'off' } | { mode: 'on'; available: true; settings: SandboxSettings; limits: string } | { mode: 'on'; available: false; reason: string };

export interface SandboxOptions {
  enabled: boolean;
  dataDir: string;
  workspaceRoot: string;
  /** The step's user when the server runs as root. */
  uid: number;
  defaults: ResolvedLimits;
  tmpBytes: number;
  /** Extra folders to hide (ANSFLOW_SANDBOX_HIDE). */
  extraHidden: string[];
}

/** The package's own folder: the spawner's code, needed inside the sandbox. */
const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export async function prepareSandbox(options: SandboxOptions): Promise<SandboxState> {
  if (!options.enabled) return { mode: 'off' };
  const unavailable = (reason: string): SandboxState => ({ mode: 'on', available: false, reason });
  if (process.platform !== 'linux') return unavailable(`steps are sandboxed with Linux namespaces (bubblewrap); this is ${process.platform}`);
  const bwrap = which('bwrap');
  if (!bwrap) return unavailable('bubblewrap is not installed (Debian package `bubblewrap`)');
  const prlimit = which('prlimit');
  const unshare = which('unshare');
  const setpriv = which('setpriv');
  if (!prlimit || !unshare || !setpriv) return unavailable('prlimit, unshare and setpriv (util-linux) are not installed');

  const root = process.getuid?.() === 0;
  const identity = root ? { uid: options.uid, gid: options.uid } : { uid: process.getuid!(), gid: process.getgid!() };
  const runAs = root ? identity : undefined;
  const namespaces = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', ...(root ? [] : ['--unshare-user']), '--unshare-pid', '--unshare-ipc', '--'];
  const drop = runAs ? [setpriv, `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--'] : [];
  const probe = spawnSync(bwrap, [...namespaces, ...drop, 'true'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0)
    return unavailable(`bubblewrap cannot create namespaces here: ${(probe.stderr || probe.error?.message || `exit ${String(probe.status)}`).trim()}`);

  const dataDir = resolve(options.dataDir);
  const hidden = hiddenInOrder([dataDir, resolve(options.workspaceRoot), homedir(), '/root', ...options.extraHidden.map((p) => resolve(p))]);
  const nodeDir = dirname(dirname(process.execPath));
  // What bwrap-args.ts empties as well: an application under /tmp (a CI checkout) must be shown again.
  const emptied = [...hidden, '/tmp', '/var/tmp', '/run'];
  const revealed = [APP_DIR, nodeDir].filter((dir, i, all) => all.indexOf(dir) === i && emptied.some((h) => isWithin(dir, h) && dir !== h));
  const hiddenFiles = [...new Set([join(process.cwd(), '.env'), join(APP_DIR, '.env')])];

  // spawner.pl by default where perl can run it (a few ms of CPU to start per run where Node takes
  // tens to hundreds, and 1 MiB step pipes); ANSFLOW_SANDBOX_SPAWNER=node chooses the Node spawner.
  // It was opt-in until the live log feed judged a client's backlog once per event-loop turn
  // (feed-client.ts): a 1 MiB burst read in one turn had got a client that reads as fast as it can
  // told to resync (docs/benchmarks.md, 2026-12-02).
  const spawnerChoice = (process.env.ANSFLOW_SANDBOX_SPAWNER ?? '').trim().toLowerCase() || 'perl';
  if (spawnerChoice !== 'perl' && spawnerChoice !== 'node')
    return unavailable(`ANSFLOW_SANDBOX_SPAWNER="${process.env.ANSFLOW_SANDBOX_SPAWNER}" must be perl or node`);
  const spawner: SandboxSpawner =
    spawnerChoice === 'perl' ? chooseSandboxSpawner(which('perl')) : { kind: 'node', reason: 'ANSFLOW_SANDBOX_SPAWNER=node chooses it' };

  const cgroup = await detectCgroups();
  const settings: SandboxSettings = {
    bwrap,
    prlimit,
    unshare,
    setpriv,
    nice: root ? which('nice') : null,
    spawner,
    path: process.env.PATH ?? '/usr/bin:/bin',
    identity,
    ...(runAs && { runAs }),
    hiddenDirs: hidden,
    hiddenFiles,
    revealed,
    runKeep: runFolderToKeep(),
    ...(root && { identityFiles: writeIdentityFiles(join(dataDir, 'sandbox'), identity) }),
    defaults: options.defaults,
    cgroups: cgroup.ok ? cgroup.cgroups : null,
    tmpBytes: options.tmpBytes,
  };
  const limits = cgroup.ok
    ? `memory, processes and CPU through cgroup v${cgroup.cgroups.version}; file size through rlimit`
    : `file size only: ${cgroup.reason}`;
  return { mode: 'on', available: true, settings, limits };
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

/** /etc/resolv.conf often points into /run (systemd-resolved, resolvconf), which is emptied. */
function runFolderToKeep(): string[] {
  try {
    const real = realpathSync('/etc/resolv.conf');
    return real.startsWith('/run/') ? [dirname(real)] : [];
  } catch {
    return [];
  }
}

/** The host's passwd and group plus the step's user, so that ssh and `id` know who it is. */
export function writeIdentityFiles(dir: string, identity: SandboxIdentity): { passwd: string; group: string } {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  const passwd = read('/etc/passwd');
  const group = read('/etc/group');
  const hasUid = passwd.split('\n').some((line) => line.split(':')[2] === String(identity.uid));
  const hasGid = group.split('\n').some((line) => line.split(':')[2] === String(identity.gid));
  const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
  const withNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
  writeFileSync(files.passwd, withNewline(passwd) + (hasUid ? '' : `ansflow-step:x:${identity.uid}:${identity.gid}:AnsFlow step:/tmp:/bin/sh\n`), {
    mode: 0o644,
  });
  writeFileSync(files.group, withNewline(group) + (hasGid ? '' : `ansflow-step:x:${identity.gid}:\n`), { mode: 0o644 });
  return files;
}
