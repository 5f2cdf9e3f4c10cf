/**
 * Turns a verified GitLab delivery (the `X-Gitlab-Event` header and the parsed body) into a
 * TriggerEvent or an ignored delivery with its reason. Rules (CONTRACT.md, Gateway):
 *   Push Hook on refs/heads/X          → push on branch X at checkout_sha
 *   Tag Push Hook on refs/tags/X       → tag X at checkout_sha (the commit, also for annotated tags)
 *   deletion (after or checkout_sha zero/null) → ignored ("branch deleted" / "tag deleted")
 *   Merge Request Hook open/reopen, or update WITH new commits (object_attributes.oldrev present)
 *                                      → pull_request on object_attributes.last_commit.id,
 *                                        branch = source_branch, `fromFork` when
 *                                        source_project_id is not target_project_id
 *   update without new commits (title, labels…), close, merge, approvals → ignored
 *   any other hook                     → ignored
 * `object_kind` must agree with the header, and the ref with the hook (a Push Hook for a tag is
 * malformed). Refs that are not safe branch names are refused, never carried as a branch.
 */
import { collectStrings, firstLine, integerAt, isObject, objectAt, stringAt, textAt, type JsonObject } from '../payload-read.js';
import { isFullCommitSha, isZeroSha, webhookRefProblem } from '../ref-name.js';
import { ignored, malformed, type NormalizeResult, type TriggerEvent } from '../trigger-event.js';

const OBJECT_KIND_BY_EVENT: Record<string, string> = {
  'Push Hook': 'push',
  'Tag Push Hook': 'tag_push',
  'Merge Request Hook': 'merge_request',
};

const REPOSITORY_URL_KEYS = ['git_http_url', 'git_ssh_url', 'http_url', 'ssh_url', 'web_url', 'url', 'homepage'] as const;

export function normalizeGitlabDelivery(eventHeader: string | undefined, payload: unknown): NormalizeResult {
  const event = eventHeader?.trim() ?? '';
  if (event.length === 0) return malformed('Missing X-Gitlab-Event header');
  const expectedKind = Object.hasOwn(OBJECT_KIND_BY_EVENT, event) ? OBJECT_KIND_BY_EVENT[event] : undefined;
  if (expectedKind === undefined) return ignored(`GitLab event "${event.slice(0, 100)}" does not trigger runs`);
  if (!isObject(payload)) return malformed('The delivery body is not a JSON object');
  const kind = stringAt(payload, 'object_kind');
  if (kind !== expectedKind) return malformed(`X-Gitlab-Event is "${event}" but object_kind is ${kind === undefined ? 'missing' : `"${kind.slice(0, 100)}"`}`);
  return kind === 'merge_request' ? normalizeMergeRequest(event, payload) : normalizePush(event, payload, kind === 'tag_push');
}

function normalizePush(event: string, payload: JsonObject, isTagHook: boolean): NormalizeResult {
  const ref = stringAt(payload, 'ref');
  if (ref === undefined) return malformed(`${event} delivery has no string "ref"`);
  const prefix = isTagHook ? 'refs/tags/' : 'refs/heads/';
  if (!ref.startsWith(prefix)) return malformed(`${event} delivery is for ${ref.slice(0, 200)}, not under ${prefix}`);
  const name = ref.slice(prefix.length);

  const after = payload.after;
  const checkoutSha = payload.checkout_sha;
  if (typeof after !== 'string') return malformed(`${event} delivery has no string "after"`);
  if (checkoutSha !== null && checkoutSha !== undefined && typeof checkoutSha !== 'string')
    return malformed(`${event} delivery has a non-string "checkout_sha"`);
  // GitLab marks a deletion with after = 0…0 and checkout_sha = null.
  if (isZeroSha(after) || checkoutSha === null || checkoutSha === undefined || isZeroSha(checkoutSha))
    return ignored(isTagHook ? 'tag deleted' : 'branch deleted');
  if (!isFullCommitSha(checkoutSha)) return malformed(`${event} delivery has no valid checkout_sha`);

  const nameProblem = webhookRefProblem(name);
  if (nameProblem) return malformed(`Refusing ${isTagHook ? 'tag' : 'branch'} name: ${nameProblem}`);

  const urls = repositoryUrls(payload);
  if (urls.length === 0) return malformed(`${event} delivery names no repository URL`);

  const result: TriggerEvent = {
    provider: 'gitlab',
    kind: isTagHook ? 'tag' : 'push',
    repositoryUrls: urls,
    branch: name,
    ref,
    commit: checkoutSha,
    author: textAt(payload, 'user_username') ?? textAt(payload, 'user_name') ?? null,
    event,
    action: null,
  };
  // What the push started from, so a pipeline file's `paths` can be matched against the files it changed.
  const before = typeof payload.before === 'string' ? payload.before.toLowerCase() : undefined;
  if (before !== undefined && isFullCommitSha(before) && !/^0+$/.test(before)) result.before = before;
  const message = commitMessage(payload, checkoutSha);
  const title = firstLine(message);
  if (title) result.title = title;
  if (message !== undefined) result.message = message;
  return result;
}

function normalizeMergeRequest(event: string, payload: JsonObject): NormalizeResult {
  const attrs = objectAt(payload, 'object_attributes');
  if (!attrs) return malformed('Merge Request Hook delivery has no object_attributes');
  const action = stringAt(attrs, 'action');
  if (action === undefined) return malformed('Merge Request Hook delivery has no string object_attributes.action');
  if (action === 'update' && textAt(attrs, 'oldrev') === undefined) return ignored('merge request updated without new commits');
  if (action !== 'open' && action !== 'reopen' && action !== 'update') return ignored(`merge request action "${action.slice(0, 100)}" does not trigger runs`);

  const sourceBranch = stringAt(attrs, 'source_branch');
  const sha = stringAt(objectAt(attrs, 'last_commit'), 'id');
  if (sourceBranch === undefined) return malformed('Merge Request Hook delivery has no string source_branch');
  if (sha === undefined || !isFullCommitSha(sha)) return malformed('Merge Request Hook delivery has no valid last_commit.id');
  const nameProblem = webhookRefProblem(sourceBranch);
  if (nameProblem) return malformed(`Refusing merge request source branch: ${nameProblem}`);

  const urls = repositoryUrls(payload);
  if (urls.length === 0) return malformed('Merge Request Hook delivery names no repository URL');

  const iid = integerAt(attrs, 'iid');
  const targetBranch = stringAt(attrs, 'target_branch');
  const user = objectAt(payload, 'user');
  const result: TriggerEvent = {
    provider: 'gitlab',
    kind: 'pull_request',
    repositoryUrls: urls,
    branch: sourceBranch,
    // A fork's source branch is fetchable from the target project only through this ref.
    ref: iid !== undefined ? `refs/merge-requests/${iid}/head` : `refs/heads/${sourceBranch}`,
    commit: sha,
    author: textAt(user, 'username') ?? textAt(user, 'name') ?? null,
    event,
    action,
    fromFork: isFromFork(attrs),
  };
  const title = firstLine(stringAt(attrs, 'title'));
  if (title) result.title = title;
  const message = stringAt(objectAt(attrs, 'last_commit'), 'message');
  if (message !== undefined) result.message = message;
  if (iid !== undefined && targetBranch !== undefined) result.pullRequest = { number: iid, targetBranch };
  return result;
}

/**
 * Whether a merge request comes from another project (a fork): source_project_id differs from
 * target_project_id. Without both ids, the source and target paths decide; a delivery that shows
 * neither counts as a fork, so an unclear request never gets secrets.
 */
function isFromFork(attrs: JsonObject): boolean {
  const sourceId = integerAt(attrs, 'source_project_id');
  const targetId = integerAt(attrs, 'target_project_id');
  if (sourceId !== undefined && targetId !== undefined) return sourceId !== targetId;
  const sourcePath = textAt(objectAt(attrs, 'source'), 'path_with_namespace');
  const targetPath = textAt(objectAt(attrs, 'target'), 'path_with_namespace');
  return sourcePath === undefined || targetPath === undefined || sourcePath.toLowerCase() !== targetPath.toLowerCase();
}

/** The project the hook belongs to (the merge request's target, never the source fork). */
function repositoryUrls(payload: JsonObject): string[] {
  return collectStrings([objectAt(payload, 'project'), objectAt(payload, 'repository')], REPOSITORY_URL_KEYS);
}

function commitMessage(payload: JsonObject, sha: string): string | undefined {
  const commits = payload.commits;
  if (!Array.isArray(commits)) return undefined;
  const match = commits.find((c): c is JsonObject => isObject(c) && c.id === sha);
  return stringAt(match, 'message');
}
