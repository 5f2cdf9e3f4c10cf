/**
 * The connectivity check itself: Ansible's `ping` module, then the `setup` module limited to the
 * facts that matter (`gather_subset: !all,!min,distribution,platform,python,network`), against the
 * inventory's hosts, inside the tool sandbox (tool-sandbox.ts, with the host's network), with the
 * inventory's ssh_key credential as a step gets it (engine/credentials/ssh-files.ts: its key and
 * known_hosts alone, strict host key checking, a passphrase through askpass, never argv).
 *
 * A small notification callback plugin writes one JSON line per host and task (ping / facts) to a
 * file the check reads as it grows, so each host's answer is known as soon as Ansible has it (a
 * large check is followed while it runs). Per host:
 *   unreachable  Ansible's unreachable (ssh could not connect or log in), with ssh's reason;
 *   failed       connected, but ping or the fact gathering failed, with the module's message;
 *   reachable    both answered: the facts that matter (domain/inventory-checks.ts).
 */
import { spawn } from 'node:child_process';
import { chown, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedCredential } from '../../domain/credentials.js';
import type { InventoryFormat } from '../../domain/inventories.js';
import { factsThatMatter, MAX_CHECK_REASON, type HostCheckResult } from '../../domain/inventory-checks.js';
import { privateFolder, writePrivateFile } from '../../engine/credentials/private-files.js';
import { writeSshFiles } from '../../engine/credentials/ssh-files.js';
import type { ToolSandbox } from './tool-sandbox.js';

export interface ConnectivityCheckInput {
  format: InventoryFormat;
  content: string;
  limit: string | null;
  /** The inventory's ssh_key credential, opened; null: ssh gets no key (hosts come out unreachable). */
  ssh: ResolvedCredential | null;
  /** Called once per host as soon as its answer is known (in Ansible's order). */
  onResult?: (result: HostCheckResult) => Promise<void> | void;
}

export interface ConnectivityChecker {
  check(input: ConnectivityCheckInput): Promise<HostCheckResult[]>;
}

export interface AnsibleConnectivityCheckerOptions {
  sandbox: ToolSandbox | { unavailable: string } | null;
  executable?: string;
  /** The whole check's limit (default 10 minutes). */
  timeoutMs?: number;
  /** ssh's connect timeout, seconds (ANSIBLE_TIMEOUT; default 10). */
  connectTimeoutSeconds?: number;
  forks?: number;
}

const CALLBACK_NAME = 'ansflow_check';
const FACT_SUBSET = '!all,!min,distribution,platform,python,network';

const PLAYBOOK = `# Written by AnsFlow: an inventory's connectivity check.
- hosts: all
  gather_facts: false
  tasks:
    - name: ping
      ansible.builtin.ping:
    - name: facts
      ansible.builtin.setup:
        gather_subset: "${FACT_SUBSET}"
`;

/** Facts the plugin hands on (the rest of what setup gathers is dropped before it is written). */
const KEEP = [
  'ansible_system',
  'ansible_os_family',
  'ansible_distribution',
  'ansible_distribution_version',
  'ansible_distribution_release',
  'ansible_kernel',
  'ansible_architecture',
  'ansible_hostname',
  'ansible_fqdn',
  'ansible_default_ipv4',
  'ansible_all_ipv4_addresses',
  'ansible_all_ipv6_addresses',
  'ansible_python_version',
  'ansible_python',
];

const CALLBACK_SOURCE = String.raw`# Written by AnsFlow for one connectivity check (services/inventories/connectivity-check.ts).
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: ansflow_check
    type: notification
    short_description: per-host connectivity results as JSON lines for AnsFlow
    description: Writes each host's ping and fact results to ANSFLOW_CHECK_EVENTS.
'''

KEEP = set(${JSON.stringify(KEEP)})


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'ansflow_check'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get('ANSFLOW_CHECK_EVENTS')
        self._out = open(path, 'a', encoding='utf-8') if path else None

    def _emit(self, result, outcome):
        if self._out is None:
            return
        r = result._result
        # Ansible's message, then what the module printed (a missing interpreter says so there).
        parts = [str(r.get(key)).strip() for key in ('msg', 'reason', 'module_stdout', 'module_stderr', 'stderr') if r.get(key)]
        message = '\n'.join(parts) if parts else None
        event = {'host': result._host.get_name(), 'task': result._task.get_name().strip(), 'outcome': outcome, 'message': message}
        facts = r.get('ansible_facts')
        if outcome == 'ok' and isinstance(facts, dict):
            event['facts'] = {k: v for k, v in facts.items() if k in KEEP}
        self._out.write(json.dumps(event, default=str) + '\n')
        self._out.flush()

    def v2_runner_on_ok(self, result):
        self._emit(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._emit(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        if self._out is not None:
            self._out.close()
            self._out = None
`;

interface CheckEvent {
  host: string;
  task: string;
  outcome: 'ok' | 'failed' | 'unreachable';
  message: string | null;
  facts?: Record<string, unknown>;
}

function parseEvent(line: string): CheckEvent | null {
  try {
    const e = JSON.parse(line) as Partial<CheckEvent>;
    if (typeof e.host !== 'string' || typeof e.task !== 'string' || !['ok', 'failed', 'unreachable'].includes(e.outcome ?? '')) return null;
    return {
      host: e.host,
      task: e.task,
      outcome: e.outcome!,
      message: typeof e.message === 'string' ? e.message : null,
      ...(e.facts && typeof e.facts === 'object' && { facts: e.facts }),
    };
  } catch {
    return null;
  }
}

const reason = (message: string | null, fallback: string) => (message ?? fallback).trim().slice(0, MAX_CHECK_REASON);

export class AnsibleConnectivityChecker implements ConnectivityChecker {
  constructor(private readonly options: AnsibleConnectivityCheckerOptions) {}

  async check(input: ConnectivityCheckInput): Promise<HostCheckResult[]> {
    const { sandbox } = this.options;
    if (sandbox && 'unavailable' in sandbox) throw new Error(`the connectivity check cannot run: ${sandbox.unavailable}`);
    const owner = sandbox?.owner ?? undefined;
    const dir = await mkdtemp(join(tmpdir(), 'ansflow-check-'));
    try {
      if (owner) await chown(dir, owner.uid, owner.gid);
      const inventory = join(dir, input.format === 'ini' ? 'inventory.ini' : 'inventory.yml');
      await writePrivateFile(inventory, input.content, owner);
      const playbook = join(dir, 'check.yml');
      await writePrivateFile(playbook, PLAYBOOK, owner);
      const callbacks = await privateFolder(dir, ['callbacks'], owner);
      await writePrivateFile(join(callbacks, `${CALLBACK_NAME}.py`), CALLBACK_SOURCE, owner);
      const eventsFile = join(dir, 'events.jsonl');
      await writePrivateFile(eventsFile, '', owner);

      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        LANG: 'C.UTF-8',
        ANSIBLE_HOME: join(dir, '.ansible'),
        ANSIBLE_LOCAL_TEMP: join(dir, '.ansible', 'tmp'),
        ANSIBLE_CONFIG: join(dir, 'none.cfg'),
        // Read as it was parsed when saved: by the plugin of its format only.
        ANSIBLE_INVENTORY_ENABLED: input.format,
        ANSIBLE_CALLBACK_PLUGINS: callbacks,
        ANSIBLE_CALLBACKS_ENABLED: CALLBACK_NAME,
        ANSFLOW_CHECK_EVENTS: eventsFile,
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
        ANSIBLE_TIMEOUT: String(this.options.connectTimeoutSeconds ?? 10),
        ANSIBLE_HOST_KEY_CHECKING: 'True',
        ANSIBLE_SSH_RETRIES: '0',
      };
      if (input.ssh?.secret.kind === 'ssh_key') {
        const secret = input.ssh.secret.value;
        const ssh = await writeSshFiles(await privateFolder(dir, ['ssh'], owner), secret, owner);
        env.ANSIBLE_PRIVATE_KEY_FILE = ssh.keyFile;
        env.ANSIBLE_SSH_COMMON_ARGS = ssh.arguments;
        if (secret.username) env.ANSIBLE_REMOTE_USER = secret.username;
        Object.assign(env, ssh.env);
      }
      const argv = [
        this.options.executable ?? 'ansible-playbook',
        `--inventory=${inventory}`,
        ...(input.limit !== null ? [`--limit=${input.limit}`] : []),
        `--forks=${this.options.forks ?? 20}`,
        playbook,
      ];
      const run = sandbox ? sandbox.wrap(argv, dir, { network: true }) : argv;

      const done = new Map<string, HostCheckResult>();
      const pingOk = new Set<string>();
      const settle = async (result: HostCheckResult) => {
        if (done.has(result.host)) return;
        done.set(result.host, result);
        await input.onResult?.(result);
      };
      const onEvent = async (e: CheckEvent) => {
        const at = new Date().toISOString();
        if (e.outcome === 'unreachable')
          await settle({ host: e.host, status: 'unreachable', reason: reason(e.message, 'unreachable'), facts: null, checked_at: at });
        else if (e.outcome === 'failed')
          await settle({
            host: e.host,
            status: 'failed',
            reason: reason(e.message, `${e.task} failed`),
            facts: null,
            checked_at: at,
          });
        else if (e.task === 'ping') pingOk.add(e.host);
        else await settle({ host: e.host, status: 'reachable', reason: null, facts: factsThatMatter(e.facts ?? {}), checked_at: at });
      };

      const tail = tailLines(eventsFile, async (lines) => {
        for (const line of lines) {
          const event = parseEvent(line);
          if (event) await onEvent(event);
        }
      });
      let result: { code: number | null; stderr: string; stdout: string };
      try {
        result = await runCollect(run, env, dir, this.options.timeoutMs ?? 10 * 60_000);
      } finally {
        await tail.stop();
      }
      // A host that answered ping but whose facts never came (the play ended first).
      for (const host of pingOk)
        await settle({ host, status: 'failed', reason: 'ping answered but the facts did not come', facts: null, checked_at: new Date().toISOString() });
      // 0: all well; 2: a host failed; 4: a host unreachable. Anything else with no host answer is Ansible's own error.
      if (done.size === 0 && result.code !== 0 && result.code !== 2 && result.code !== 4) {
        const text = `${result.stderr}\n${result.stdout}`.split(dir).join('<check>').trim();
        throw new Error(result.code === null ? 'the check did not finish in time' : `ansible-playbook failed (exit ${result.code}): ${text.slice(-1000)}`);
      }
      return [...done.values()];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Reads whole lines added to `file` every 200 ms; stop() reads what is left. */
function tailLines(file: string, onLines: (lines: string[]) => Promise<void>): { stop(): Promise<void> } {
  let offset = 0;
  let partial = '';
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let reading: Promise<void> = Promise.resolve();
  const readMore = async () => {
    const handle = await open(file, 'r').catch(() => null);
    if (!handle) return;
    try {
      for (;;) {
        const buffer = Buffer.alloc(256 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const lines = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        if (lines.length > 0) await onLines(lines);
      }
    } finally {
      await handle.close();
    }
  };
  const tick = () => {
    reading = reading.then(readMore).catch(() => undefined);
    void reading.then(() => {
      if (!stopped) timer = setTimeout(tick, 200);
    });
  };
  timer = setTimeout(tick, 200);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await reading;
      await readMore().catch(() => undefined);
    },
  };
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs the command; keeps the last MAX_OUTPUT bytes of each stream (the check's log is not kept). */
function runCollect(
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out = (out + c.toString('utf8')).slice(-MAX_OUTPUT);
    });
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString('utf8')).slice(-MAX_OUTPUT);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: err });
    });
  });
}
