/**
 * The credentials of one run, as the engine sees them: RunSpec.credentials holds the opened values
 * of every credential its steps name (none when they were withheld, e.g. for a fork's pull request).
 */
import { credentialSecretValues, type ResolvedCredential } from '../../domain/credentials.js';
import type { RunSpec } from '../ports.js';

/** The credential a step names, or why the run does not have it (the step fails with this). */
export function credentialForStep(spec: RunSpec, name: string): { credential: ResolvedCredential } | { problem: string } {
  const credential = Object.hasOwn(spec.credentials ?? {}, name) ? spec.credentials![name] : undefined;
  if (credential) return { credential };
  if (spec.credentialsWithheld) return { problem: `credential "${name}" is withheld from this run (${spec.credentialsWithheld})` };
  return { problem: `credential "${name}" does not exist (or this run may not use it)` };
}

/** Every secret value of every credential of the run: masked in every step's log, named or not. */
export function runCredentialSecrets(spec: RunSpec): string[] {
  return Object.values(spec.credentials ?? {}).flatMap((c) => credentialSecretValues(c.secret));
}
