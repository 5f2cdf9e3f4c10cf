/**
 * Reads an ssh private key the way ssh will: with `ssh-keygen -y`, which knows every format ssh
 * accepts (OpenSSH's own, which Node's crypto cannot parse, PEM and PKCS#8), and derives the
 * public key and its OpenSSH SHA256 fingerprint.
 *
 * The key is written to a file (mode 0600) in a private temporary folder (mode 0700) that is
 * removed at once. The passphrase goes through ssh-keygen's standard input, never its argv
 * (readable by every user in /proc) or its environment; with no terminal and no askpass program
 * configured, ssh-keygen reads it from there.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SshKeyInspection = { ok: true; publicKey: string; fingerprint: string } | { ok: false; field: 'private_key' | 'passphrase'; problem: string };

const TIMEOUT_MS = 10_000;

export async function inspectSshPrivateKey(privateKey: string, passphrase: string | undefined): Promise<SshKeyInspection> {
  const dir = await mkdtemp(join(tmpdir(), 'ansflow-key-'));
  try {
    const file = join(dir, 'key');
    await writeFile(file, privateKey, { mode: 0o600, flag: 'wx' });
    const { code, stdout, stderr } = await sshKeygen(['-y', '-f', file], `${passphrase ?? ''}\n`);
    if (code === 0) {
      const publicKey = stdout.trim().split('\n')[0] ?? '';
      const fingerprint = sshFingerprint(publicKey);
      if (fingerprint) return { ok: true, publicKey, fingerprint };
    }
    if (/incorrect passphrase|passphrase/i.test(stderr))
      return {
        ok: false,
        field: 'passphrase',
        problem: passphrase ? 'The passphrase does not open this key.' : 'The key is encrypted: give its passphrase.',
      };
    return { ok: false, field: 'private_key', problem: 'Not a private key ssh can read (OpenSSH, PEM or PKCS#8 format expected).' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `SHA256:<base64 without padding>` of a public key line (`type base64 [comment]`), as `ssh-keygen -l` prints it. */
export function sshFingerprint(publicKeyLine: string): string | null {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return null;
  return 'SHA256:' + createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '');
}

function sshKeygen(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A clean environment (no DISPLAY or SSH_ASKPASS: the passphrase must come from stdin) and a
    // session of its own (no controlling terminal to prompt on).
    const child = spawn('ssh-keygen', args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // An unencrypted key is read without asking: the passphrase then meets a closed pipe.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`ssh-keygen could not be started (is openssh-client installed?): ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
