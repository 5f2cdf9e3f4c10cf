/**
 * Rotates the platform's secret key: every sealed value (credentials, secret variables of
 * pipelines and runs) is re-sealed under the new key while servers keep running.
 *
 * 1. The new key becomes current. Data folder: written there, the old key kept in
 *    `secret.key.previous` (servers reload both when they meet a new key id or before sealing).
 *    Environment: the operator has already set ANSFLOW_SECRET_KEY (new) and
 *    ANSFLOW_SECRET_KEY_PREVIOUS (old) and restarted every process.
 * 2. Every row is re-sealed in batches, each row by its own short statement (SealedValues).
 * 3. Passes repeat after a pause until one finds nothing left: a server may have sealed a value
 *    under the old key just before it noticed the new one, and committed it after the first pass.
 * 4. Data folder: the previous file is removed; the old key is gone.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { SecretBox, type SecretKeys } from '../store/secret-box.js';
import { SealedValues, type ResealCounts } from '../store/sealed-values.js';
import { beginDataDirRotation, finishDataDirRotation } from './secret-key.js';

export type KeyLocation = { from: 'environment'; keys: SecretKeys } | { from: 'data-folder'; dataDir: string };

export interface RotationOptions {
  batchSize: number;
  /** Pause before each pass after the first. */
  settleMs: number;
  /** Passes that still find old-key values before giving up (a process that never reloads keeps writing them). */
  maxPasses: number;
  log(line: string): void;
}

export interface RotationResult {
  keyId: string;
  resumed: boolean;
  passes: number;
  resealed: ResealCounts;
}

export async function rotateSecretKey(db: Kysely<Database>, location: KeyLocation, options: RotationOptions): Promise<RotationResult> {
  let keys: SecretKeys;
  let resumed = false;
  if (location.from === 'data-folder') {
    ({ keys, resumed } = beginDataDirRotation(location.dataDir));
    options.log(
      resumed
        ? 'Resuming an interrupted rotation: the new key is already in place.'
        : 'A new key is in place; the old one is kept until every value is re-sealed.',
    );
  } else {
    keys = location.keys;
  }
  const box = new SecretBox(keys);
  const values = new SealedValues(db);
  const total: ResealCounts = { credentials: 0, notification_channels: 0, pipelines: 0, runs: 0 };
  let passes = 0;
  for (;;) {
    if (passes > 0) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const counts = await values.resealAll(box, { batchSize: options.batchSize });
    passes++;
    const changed = counts.credentials + counts.notification_channels + counts.pipelines + counts.runs;
    total.credentials += counts.credentials;
    total.notification_channels += counts.notification_channels;
    total.pipelines += counts.pipelines;
    total.runs += counts.runs;
    options.log(
      `Pass ${passes}: re-sealed ${counts.credentials} credentials, ${counts.notification_channels} notification channels, ${counts.pipelines} pipelines, ${counts.runs} runs.`,
    );
    // The first pass always gets a second, so a value sealed under the old key while it ran is caught.
    if (changed === 0 && passes > 1) break;
    if (passes >= options.maxPasses)
      throw new Error(
        `values sealed under an old key keep appearing after ${passes} passes: a process is still running with only the old key (restart it, then run the rotation again)`,
      );
  }
  if (location.from === 'data-folder') finishDataDirRotation(location.dataDir);
  return { keyId: box.currentKeyId, resumed, passes, resealed: total };
}
