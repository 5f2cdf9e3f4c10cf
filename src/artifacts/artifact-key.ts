/**
 * Keys of the artifact store. Every key an adapter receives went through here, so neither the
 * filesystem adapter (where a key becomes a path) nor the S3 one (where `..` and `//` mean other
 * things to other stores) can be steered outside its root by a step's file names or a user's URL.
 */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.@+=,-]{0,199}$/;
const MAX_KEY_LENGTH = 1024;

export class InvalidArtifactKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid storage key ${JSON.stringify(key.slice(0, 200))}: ${reason}`);
    this.name = 'InvalidArtifactKeyError';
  }
}

/** Returns the key unchanged when it is safe, or throws saying why not. */
export function artifactKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArtifactKeyError(String(key), 'empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidArtifactKeyError(key, `longer than ${MAX_KEY_LENGTH} characters`);
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new InvalidArtifactKeyError(key, 'empty, "." or ".." path segment');
    if (!SEGMENT.test(segment))
      throw new InvalidArtifactKeyError(
        key,
        `segment ${JSON.stringify(segment.slice(0, 50))} has characters outside [A-Za-z0-9_.@+=,-] or starts with one of ".-@+=,"`,
      );
  }
  return key;
}

/** A listing prefix: empty (everything) or a key followed by `/`. */
export function artifactPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (!prefix.endsWith('/')) throw new InvalidArtifactKeyError(prefix, 'a prefix ends with "/"');
  artifactKey(prefix.slice(0, -1));
  return prefix;
}
