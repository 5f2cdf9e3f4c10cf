/**
 * Turns a verified GitHub delivery (the `X-GitHub-Event` header and the parsed body) into a
 * TriggerEvent, a ping, or an ignored delivery with its reason. Rules (CONTRACT.md, Gateway):
 *   ping                               → { ping: true }
 *   push to refs/heads/X               → push on branch X at the pushed commit
 *   push to refs/tags/X                → tag X
 *   push with deleted / after = 0…0    → ignored ("branch deleted" / "tag deleted"); never a run of
 *                                        the zero commit
 *   pull_request opened/synchronize/reopened → pull_request on pull_request.head.sha, branch = head ref,
 *                                        `fromFork` when the head repository is not the base one
 *   other pull_request actions, create, delete, anything else → ignored
 * The header must agree with the body (a `push` header over a pull_request body is malformed),
 * and a ref that is not a safe branch name is refused, never carried as a branch.
 */
import { collectStrings, firstLine, integerAt, isObject, objectAt, stringAt, textAt, type JsonObject } from '../payload-read.js';
import { isFullCommitSha, isZeroSha, webhookRefProblem } from '../ref-name.js';
import { ignored, malformed, type NormalizeResult, type TriggerEvent } from '../trigger-event.js';

const TRIGGERING_PR_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);
const REPOSITORY_URL_KEYS = ['clone_url', 'html_url', 'ssh_url', 'git_url', 'svn_url'] as const;

export function normalizeGithubDelivery(eventHeader: string | undefined, payload: unknown): NormalizeResult {
  const event = eventHeader?.trim() ?? '';
  if (event.length === 0) return malformed('Missing X-GitHub-Event header');
  if (!isObject(payload)) return malformed('The delivery body is not a JSON object');
  const mismatch = headerBodyMismatch(event, payload);
  if (mismatch) return malformed(mismatch);
  switch (event) {
    case 'ping':
      return { ping: true };
    case 'push':
      return normalizePush(event, payload);
    case 'pull_request':
      return normalizePullRequest(event, payload);
    case 'create':
    case 'delete':
      // Every branch/tag creation or deletion also arrives as a push; that one decides.
      return ignored(`GitHub "${event}" events do not trigger runs (the matching push event does)`);
    default:
      return ignored(`GitHub event "${event.slice(0, 100)}" does not trigger runs`);
  }
}

/** Why the body cannot be the event the header names, or null when they agree. */
function headerBodyMismatch(event: string, payload: JsonObject): string | null {
  const looksLikePing = 'zen' in payload || 'hook_id' in payload;
  const looksLikePullRequest = 'pull_request' in payload;
  const looksLikeCreateDelete = 'ref_type' in payload;
  const says = (what: string) => `X-GitHub-Event is "${event}" but the body is ${what}`;
  switch (event) {
    case 'ping':
      return looksLikePing ? null : says('not a ping');
    case 'push':
      if (looksLikePullRequest) return says('a pull_request delivery');
      if (looksLikeCreateDelete) return says('a create/delete delivery');
      if (looksLikePing) return says('a ping delivery');
      return null;
    case 'pull_request':
      return isObject(payload.pull_request) ? null : says('missing the pull_request object');
    default:
      return null;
  }
}

function normalizePush(event: string, payload: JsonObject): NormalizeResult {
  const ref = stringAt(payload, 'ref');
  const after = stringAt(payload, 'after');
  if (ref === undefined) return malformed('push delivery has no string "ref"');
  if (after === undefined) return malformed('push delivery has no string "after"');
  if (payload.deleted !== undefined && typeof payload.deleted !== 'boolean') return malformed('push delivery has a non-boolean "deleted"');

  const target = refTarget(ref);
  if (!target) return ignored(`push to ${ref.slice(0, 200)} is neither a branch nor a tag`);
  if (payload.deleted === true || isZeroSha(after)) return ignored(target.kind === 'tag' ? 'tag deleted' : 'branch deleted');
  const nameProblem = webhookRefProblem(target.name);
  if (nameProblem) return malformed(`Refusing ${target.kind === 'tag' ? 'tag' : 'branch'} name: ${nameProblem}`);

  // For an annotated tag `after` is the tag object; head_commit.id is the commit it points at.
  const headCommit = objectAt(payload, 'head_commit');
  const commit = textAt(headCommit, 'id') ?? after;
  if (!isFullCommitSha(commit)) return malformed('push delivery has no valid commit id');

  const urls = repositoryUrls(payload);
  if (urls.length === 0) return malformed('push delivery names no repository URL');

  const headAuthor = objectAt(headCommit ?? {}, 'author');
  const result: TriggerEvent = {
    provider: 'github',
    kind: target.kind,
    repositoryUrls: urls,
    branch: target.name,
    ref,
    commit,
    author:
      textAt(headAuthor, 'username') ??
      textAt(headAuthor, 'name') ??
      textAt(objectAt(payload, 'pusher'), 'name') ??
      textAt(objectAt(payload, 'sender'), 'login') ??
      null,
    event,
    action: null,
  };
  // What the push started from, so a pipeline file's `paths` can be matched against the files it changed.
  const before = typeof payload.before === 'string' ? payload.before.toLowerCase() : undefined;
  if (before !== undefined && isFullCommitSha(before) && !/^0+$/.test(before)) result.before = before;
  const message = stringAt(headCommit, 'message');
  const title = firstLine(message);
  if (title) result.title = title;
  if (message !== undefined) result.message = message;
  return result;
}

function normalizePullRequest(event: string, payload: JsonObject): NormalizeResult {
  const action = stringAt(payload, 'action');
  if (action === undefined) return malformed('pull_request delivery has no string "action"');
  if (!TRIGGERING_PR_ACTIONS.has(action)) return ignored(`pull_request action "${action.slice(0, 100)}" does not trigger runs`);

  const pr = objectAt(payload, 'pull_request') ?? {};
  const head = objectAt(pr, 'head');
  const headRef = stringAt(head, 'ref');
  const sha = stringAt(head, 'sha');
  if (headRef === undefined) return malformed('pull_request delivery has no string pull_request.head.ref');
  if (sha === undefined || !isFullCommitSha(sha)) return malformed('pull_request delivery has no valid pull_request.head.sha');
  const nameProblem = webhookRefProblem(headRef);
  if (nameProblem) return malformed(`Refusing pull request head branch: ${nameProblem}`);

  const urls = repositoryUrls(payload);
  if (urls.length === 0) return malformed('pull_request delivery names no repository URL');

  const number = integerAt(payload, 'number') ?? integerAt(pr, 'number');
  const targetBranch = stringAt(objectAt(pr, 'base'), 'ref');
  const result: TriggerEvent = {
    provider: 'github',
    kind: 'pull_request',
    repositoryUrls: urls,
    branch: headRef,
    // The head of a fork's PR is fetchable from the base repository only through this ref.
    ref: number !== undefined ? `refs/pull/${number}/head` : `refs/heads/${headRef}`,
    commit: sha,
    author: textAt(objectAt(pr, 'user'), 'login') ?? textAt(objectAt(payload, 'sender'), 'login') ?? null,
    event,
    action,
    fromFork: isFromFork(head, objectAt(pr, 'base')),
  };
  const prTitle = stringAt(pr, 'title');
  const title = firstLine(prTitle);
  if (title) result.title = title;
  if (prTitle !== undefined) result.message = prTitle;
  if (number !== undefined && targetBranch !== undefined) result.pullRequest = { number, targetBranch };
  return result;
}

/**
 * Whether a pull request's head is in another repository than its base, as GitHub Actions decides
 * for `pull_request` from forks. `head.repo` is null when the fork was deleted. Only a matching id
 * (or, without ids, full name) proves it is the same repository; anything else counts as a fork.
 */
function isFromFork(head: JsonObject | undefined, base: JsonObject | undefined): boolean {
  const headRepo = objectAt(head ?? {}, 'repo');
  const baseRepo = objectAt(base ?? {}, 'repo');
  if (!headRepo || !baseRepo) return true;
  const headId = integerAt(headRepo, 'id');
  const baseId = integerAt(baseRepo, 'id');
  if (headId !== undefined && baseId !== undefined) return headId !== baseId;
  const headName = textAt(headRepo, 'full_name');
  const baseName = textAt(baseRepo, 'full_name');
  return headName === undefined || baseName === undefined || headName.toLowerCase() !== baseName.toLowerCase();
}

function refTarget(ref: string): { kind: 'push' | 'tag'; name: string } | null {
  if (ref.startsWith('refs/heads/')) return { kind: 'push', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return null;
}

/** The hook's own repository (the base repository of a pull request, never the fork). */
function repositoryUrls(payload: JsonObject): string[] {
  return collectStrings([objectAt(payload, 'repository')], REPOSITORY_URL_KEYS);
}
