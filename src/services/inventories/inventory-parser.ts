/**
 * Parses inventory text with Ansible's own parser: `ansible-inventory --list` on the text written
 * to a fresh folder, inside the tool sandbox (tool-sandbox.ts). Never a parser of ours: what the
 * platform shows is what Ansible will use.
 *
 * Only the plugin of the declared format is enabled (`ini` or `yaml`): no script, no `constructed`
 * templates, no cloud plugins, so saving an inventory runs nothing of the user's. Jinja in values
 * is not evaluated by `--list`; variables come back as written.
 *
 * A syntax error comes back with the line Ansible names (INI: `file:8: …`; YAML: `line 5, column 4`).
 */
import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseInventoryList, type InventoryFormat, type ParsedInventory } from '../../domain/inventories.js';
import type { ToolSandbox } from './tool-sandbox.js';

export type ParseResult = { ok: true; inventory: ParsedInventory } | { ok: false; line: number | null; message: string };

export interface InventoryParser {
  parse(content: string, format: InventoryFormat): Promise<ParseResult>;
}

export interface AnsibleInventoryParserOptions {
  /** The sandbox, or null to run unsandboxed (ANSFLOW_SANDBOX=off); `unavailable` refuses every parse. */
  sandbox: ToolSandbox | { unavailable: string } | null;
  executable?: string;
  timeoutMs?: number;
}

/** The largest output read from ansible-inventory (a 1 MiB inventory lists well under this). */
const MAX_OUTPUT = 64 * 1024 * 1024;

export class AnsibleInventoryParser implements InventoryParser {
  constructor(private readonly options: AnsibleInventoryParserOptions) {}

  async parse(content: string, format: InventoryFormat): Promise<ParseResult> {
    const { sandbox } = this.options;
    if (sandbox && 'unavailable' in sandbox) throw new Error(`inventories cannot be parsed: ${sandbox.unavailable}`);
    const dir = await mkdtemp(join(tmpdir(), 'ansflow-inventory-'));
    try {
      const file = join(dir, format === 'ini' ? 'inventory.ini' : 'inventory.yml');
      await writeFile(file, content, { mode: 0o600 });
      if (sandbox?.owner) {
        await chown(dir, sandbox.owner.uid, sandbox.owner.gid);
        await chown(file, sandbox.owner.uid, sandbox.owner.gid);
      }
      const argv = [this.options.executable ?? 'ansible-inventory', `--inventory=${file}`, '--list'];
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        LANG: 'C.UTF-8',
        ANSIBLE_HOME: join(dir, '.ansible'),
        ANSIBLE_LOCAL_TEMP: join(dir, '.ansible', 'tmp'),
        ANSIBLE_INVENTORY_ENABLED: format === 'ini' ? 'ini' : 'yaml',
        ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
        // No ansible.cfg of the host's or anyone's: the configuration is these variables.
        ANSIBLE_CONFIG: join(dir, 'none.cfg'),
      };
      const run = sandbox ? sandbox.wrap(argv, dir) : argv;
      const result = await runCollect(run, env, dir, this.options.timeoutMs ?? 60_000);
      if (result.code === 0) {
        let list: Record<string, unknown>;
        try {
          list = JSON.parse(result.stdout) as Record<string, unknown>;
        } catch {
          throw new Error(`ansible-inventory printed something that is not JSON: ${result.stdout.slice(0, 200)}`);
        }
        return { ok: true, inventory: normaliseInventoryList(list) };
      }
      if (result.code === null) throw new Error(`ansible-inventory did not finish: ${result.stderr.slice(0, 500)}`);
      return { ok: false, ...syntaxError(result.stderr, file) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The line and message of Ansible's complaint, with the temporary path taken out. */
export function syntaxError(stderr: string, file: string): { line: number | null; message: string } {
  const text = stderr.split(file).join('inventory').replace(/\s+/g, ' ').trim();
  const ini = /inventory:(\d+): ([^[]*)/.exec(text);
  if (ini) return { line: Number(ini[1]), message: ini[2]!.trim() };
  const yaml = /line (\d+), column (\d+)/.exec(text);
  const reason = /Syntax Error while loading YAML\. (.*?) The error appears/.exec(text)?.[1] ?? /with yaml plugin: (.*?)(?: \[WARNING\]|$)/.exec(text)?.[1];
  if (yaml) return { line: Number(yaml[1]), message: `${(reason ?? 'YAML syntax error').trim()} (line ${yaml[1]}, column ${yaml[2]})` };
  const plugin = /with (?:ini|yaml) plugin: (.*?)(?: \[WARNING\]|$)/.exec(text)?.[1];
  return { line: null, message: (plugin ?? text.replace(/^\[WARNING\]: /, '')).slice(0, 1000) };
}

function runCollect(
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) child.kill('SIGKILL');
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
