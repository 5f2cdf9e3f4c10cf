/** Real ssh keys for tests, made by ssh-keygen in a temporary folder (and their fingerprints as ssh-keygen prints them). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestSshKey {
  privateKey: string;
  publicKey: string;
  /** `SHA256:...` from `ssh-keygen -l`. */
  fingerprint: string;
}

export function makeSshKey(options: { type?: 'ed25519' | 'rsa' | 'ecdsa'; passphrase?: string; format?: 'openssh' | 'PEM' | 'PKCS8' } = {}): TestSshKey {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-test-key-'));
  try {
    const file = join(dir, 'id');
    const args = ['-q', '-t', options.type ?? 'ed25519', '-N', options.passphrase ?? '', '-C', 'test@ansflow', '-f', file];
    if (options.type === 'rsa') args.push('-b', '2048');
    if (options.format && options.format !== 'openssh') args.push('-m', options.format);
    execFileSync('ssh-keygen', args);
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
    return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8').trim(), fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
