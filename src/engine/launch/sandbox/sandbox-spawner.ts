/**
 * Which program is the spawner inside a run's sandbox: spawner.pl (Perl) where it can run, else
 * the Node spawner (spawner-main.ts). Both speak spawner-protocol.ts over the IPC channel.
 *
 * Why Perl: a sandbox is started per run, and with it its spawner. Node takes 80-250 ms of CPU to
 * start (measured in docs/benchmarks.md), perl without modules a few; perl-base is Essential on
 * Debian, so it is there wherever git is. spawner.pl also sets each step's output pipe to 1 MiB.
 * It makes its system calls by number, so it runs only on the architectures it knows (x64, arm64).
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type SandboxSpawner =
  /** `argv` to start it with, the FIFO folder appended. */
  | { kind: 'perl'; argv: string[] }
  /** The Node spawner, and why not Perl. */
  | { kind: 'node'; reason: string };

/**
 * Four folders up from here is the package's root both in src/ and in dist/ (the build copies no
 * other files than JavaScript, so the script is read from src/, which ships with the package).
 */
export const PERL_SPAWNER = fileURLToPath(new URL('../../../../src/engine/launch/sandbox/spawner.pl', import.meta.url));

const ARCHITECTURES = new Set(['x64', 'arm64']);

export function chooseSandboxSpawner(perl: string | null, arch: string = process.arch, script: string = PERL_SPAWNER): SandboxSpawner {
  if (!perl) return { kind: 'node', reason: 'perl is not installed' };
  if (!ARCHITECTURES.has(arch)) return { kind: 'node', reason: `spawner.pl knows no system call numbers for ${arch}` };
  try {
    accessSync(script, constants.R_OK);
  } catch {
    return { kind: 'node', reason: `${script} is missing` };
  }
  // `--`: nothing after it is read as an option of perl's; no PERL5OPT/PERL5LIB reach it (its
  // environment is PATH and the channel's variables only).
  return { kind: 'perl', argv: [perl, '--', script, arch] };
}
