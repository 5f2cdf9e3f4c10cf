/**
 * Encrypts secrets at rest (secret variables, credentials) with AES-256-GCM under keys derived
 * from the platform's secret key.
 *
 * A box holds a key ring: the current key seals, every key in the ring opens. Sealed values name
 * their key: `v2:<kid>:<iv>:<tag>:<data>` (base64url parts; the kid is a short, non-secret id
 * derived from the key). `v1:<iv>:<tag>:<data>` values, written before the ring existed, carry no
 * kid and are tried against every key, current first (GCM's tag tells a wrong key apart).
 * A value in neither format was never encrypted and is refused rather than guessed at.
 *
 * Key rotation (`ansflow secret-key rotate`) writes a new key while servers run; a box built on a
 * KeySource reloads its ring when it meets an unknown kid (so a read never fails because another
 * process already re-sealed under the new key) and before sealing when the source says it changed
 * (so a running server stops sealing under the old key soon after rotation starts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface SecretKeys {
  /** Seals and opens. */
  current: string;
  /** Open only: keys being rotated away from. */
  previous: readonly string[];
}

/** Where the keys live (the data folder or the environment); `changed` must be cheap. */
export interface KeySource {
  load(): SecretKeys;
  changed(): boolean;
}

interface RingKey {
  kid: string;
  key: Buffer;
}

const deriveKey = (secretKey: string) => Buffer.from(hkdfSync('sha256', secretKey, 'ansflow', 'variables-at-rest', 32));

/** A short, stable id for a key: names the key in sealed values without revealing anything of it. */
export const keyId = (secretKey: string) => Buffer.from(hkdfSync('sha256', secretKey, 'ansflow', 'key-id', 6)).toString('base64url');

export class SecretBox {
  private current!: RingKey;
  private ring = new Map<string, RingKey>();
  private readonly source: KeySource | null;

  constructor(keys: string | SecretKeys | KeySource) {
    this.source = typeof keys === 'object' && 'load' in keys ? keys : null;
    this.use(this.source ? this.source.load() : typeof keys === 'string' ? { current: keys, previous: [] } : (keys as SecretKeys));
  }

  /** The id of the key that seals now. */
  get currentKeyId(): string {
    return this.current.kid;
  }

  seal(plain: string): string {
    if (this.source?.changed()) this.reload();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v2', this.current.kid, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  open(sealed: string): string {
    const parts = sealed.split(':');
    if (parts[0] === 'v1' && parts.length === 4) {
      const [, iv, tag, data] = parts as [string, string, string, string];
      const keys = [this.current, ...[...this.ring.values()].filter((k) => k !== this.current)];
      for (const k of keys) {
        try {
          return decrypt(k.key, iv, tag, data);
        } catch {
          // try the next key of the ring
        }
      }
      throw new Error('secret value does not open with any key of the ring');
    }
    if (parts[0] === 'v2' && parts.length === 5) {
      const [, kid, iv, tag, data] = parts as [string, string, string, string, string];
      let key = this.ring.get(kid);
      if (!key && this.source) {
        this.reload();
        key = this.ring.get(kid);
      }
      if (!key) throw new Error(`secret value was sealed with a key this process does not have (key id ${kid})`);
      return decrypt(key.key, iv, tag, data);
    }
    throw new Error('secret value is not in a known sealed format');
  }

  /** True when the value is sealed under the current key (nothing to do for a rotation). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2:${this.current.kid}:`);
  }

  /** The value sealed under the current key: itself when it already is. */
  reseal(sealed: string): string {
    return this.isCurrent(sealed) ? sealed : this.seal(this.open(sealed));
  }

  /** Reads the keys again from the source (after a rotation wrote a new one). */
  reload(): void {
    if (this.source) this.use(this.source.load());
  }

  private use(keys: SecretKeys): void {
    const current = { kid: keyId(keys.current), key: deriveKey(keys.current) };
    const ring = new Map<string, RingKey>([[current.kid, current]]);
    for (const previous of keys.previous) {
      const kid = keyId(previous);
      if (!ring.has(kid)) ring.set(kid, { kid, key: deriveKey(previous) });
    }
    this.current = current;
    this.ring = ring;
  }
}

function decrypt(key: Buffer, iv: string, tag: string, data: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
