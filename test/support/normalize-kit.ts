/**
 * Helpers shared by the GitHub and GitLab normaliser tests (src/integrations/{github,gitlab}/
 * normalize.test.ts): narrowing a result to what a test expects, and checking a trigger event
 * field by field against its expected values.
 */
import assert from 'node:assert/strict';
import { isIgnored, isTrigger, type NormalizeResult, type TriggerEvent } from '../../src/integrations/trigger-event.js';

export type { JsonObject } from '../../src/integrations/payload-read.js';

export const clone = <T>(value: T): T => structuredClone(value);

export function asTrigger(result: NormalizeResult): TriggerEvent {
  assert.ok(isTrigger(result), `expected a trigger, got ${JSON.stringify(result)}`);
  return result;
}

export function ignoredReason(result: NormalizeResult, malformed: boolean): string {
  assert.ok(isIgnored(result), `expected ignored, got ${JSON.stringify(result)}`);
  assert.equal(result.malformed, malformed, result.ignored);
  return result.ignored;
}

/** The fields a fixture's trigger event must have; `title` is checked only when given. */
export type ExpectedTrigger = Pick<TriggerEvent, 'kind' | 'branch' | 'ref' | 'commit' | 'action' | 'author'> & { urls: string[]; title?: string };

/** What a fixture must normalise to (GitHub adds `{ ping: true }`). */
export type Expected = { trigger: ExpectedTrigger } | { ignored: RegExp };

export function assertTrigger(t: TriggerEvent, provider: TriggerEvent['provider'], event: string, e: ExpectedTrigger): void {
  assert.equal(t.provider, provider);
  assert.equal(t.event, event);
  assert.equal(t.kind, e.kind);
  assert.equal(t.branch, e.branch);
  assert.equal(t.ref, e.ref);
  assert.equal(t.commit, e.commit);
  assert.equal(t.action, e.action);
  assert.equal(t.author, e.author);
  assert.deepEqual(t.repositoryUrls, e.urls);
  if (e.title !== undefined) assert.equal(t.title, e.title);
}
