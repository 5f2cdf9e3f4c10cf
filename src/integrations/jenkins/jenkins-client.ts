/**
 * A client for the Jenkins REST API (the calls AnsFlow needs, nothing more). Every method either
 * resolves with a typed value or throws a JenkinsError; see jenkins-http.ts for auth, crumbs and
 * timeouts, and follow-build.ts for driving one build from trigger to result.
 */
import { integerAt, isObject, type JsonObject } from '../payload-read.js';
import { followBuild, type FollowBuildOptions, type FollowBuildResult } from './follow-build.js';
import { JenkinsError } from './jenkins-error.js';
import { discard, JenkinsHttp, signalArg, type JenkinsHttpOptions } from './jenkins-http.js';
import { JENKINS_RESULTS, type BuildInfo, type ConsoleChunk, type JenkinsResult, type QueueItem, type QueuedBuild } from './jenkins-types.js';
import { buildParametersForm, jobPath } from './job-path.js';

export type JenkinsClientOptions = JenkinsHttpOptions;

/** Only the fields we read; Jenkins' full build JSON can be large (actions, change sets). */
const BUILD_TREE = 'number,url,building,inProgress,result,duration';
const QUEUE_TREE = 'id,why,blocked,buildable,cancelled,executable[number,url]';

export class JenkinsClient {
  private readonly http: JenkinsHttp;

  constructor(options: JenkinsClientOptions) {
    this.http = new JenkinsHttp(options);
  }

  get baseUrl(): string {
    return this.http.baseUrl.href;
  }

  /**
   * Queues a build: POST buildWithParameters (form-encoded) when there are parameters, else
   * POST build. Jenkins answers 201, or 303 when it merged the request into an identical queued
   * item; both name the queue item in Location.
   */
  async triggerBuild(job: string, params: Record<string, string> = {}, options: { signal?: AbortSignal } = {}): Promise<QueuedBuild> {
    const form = buildParametersForm(params);
    const what = `trigger ${job}`;
    const path = `${jobPath(job)}/${form.size > 0 ? 'buildWithParameters' : 'build'}`;
    const response = await this.http.send({ method: 'POST', path, form, what, ...signalArg(options.signal) });
    if (response.status !== 201 && response.status !== 303 && response.status !== 302) throw await this.http.statusError(response, what);
    await discard(response);
    const location = response.headers.get('location') ?? '';
    const match = /\/queue\/item\/(\d+)\/?$/.exec(location);
    if (!match?.[1]) {
      // 302 to the job page: a QueueDecisionHandler vetoed the build; nothing was queued.
      throw new JenkinsError('not_enqueued', `Jenkins ${what}: the build was not queued (HTTP ${response.status})`, { status: response.status });
    }
    return { queueId: Number(match[1]), queueUrl: new URL(location, this.http.baseUrl).href, merged: response.status === 303 };
  }

  async getQueueItem(queueId: number, options: { signal?: AbortSignal } = {}): Promise<QueueItem> {
    const what = `queue item ${queueId}`;
    const response = await this.http.send({
      method: 'GET',
      path: `queue/item/${checkId(queueId)}/api/json`,
      query: new URLSearchParams({ tree: QUEUE_TREE }),
      what,
      ...signalArg(options.signal),
    });
    if (response.status === 404) {
      await discard(response);
      throw new JenkinsError('queue_item_expired', `Jenkins ${what} no longer exists: Jenkins forgets queue items a few minutes after they leave the queue`, {
        status: 404,
      });
    }
    if (response.status !== 200) throw await this.http.statusError(response, what);
    const body = await this.http.json(response, what);
    if (!isObject(body)) throw new JenkinsError('unexpected_response', `Jenkins ${what}: not a JSON object`, { status: 200 });
    return parseQueueItem(queueId, body, what);
  }

  /** Cancels a build that has not started yet (POST queue/cancelItem). */
  async cancelQueueItem(queueId: number): Promise<void> {
    const what = `cancel queue item ${queueId}`;
    const response = await this.http.send({
      method: 'POST',
      path: 'queue/cancelItem',
      query: new URLSearchParams({ id: String(checkId(queueId)) }),
      what,
    });
    if (response.status >= 400) throw await this.http.statusError(response, what);
    await discard(response);
  }

  async getBuild(job: string, number: number, options: { signal?: AbortSignal } = {}): Promise<BuildInfo> {
    const what = `build ${job} #${number}`;
    const response = await this.http.send({
      method: 'GET',
      path: `${jobPath(job)}/${checkId(number)}/api/json`,
      query: new URLSearchParams({ tree: BUILD_TREE }),
      what,
      ...signalArg(options.signal),
    });
    if (response.status !== 200) throw await this.http.statusError(response, what);
    const body = await this.http.json(response, what);
    if (!isObject(body)) throw new JenkinsError('unexpected_response', `Jenkins ${what}: not a JSON object`, { status: 200 });
    return parseBuild(number, body, what);
  }

  /** The console bytes from byte offset `start` (stapler LargeText: X-Text-Size, X-More-Data). */
  async progressiveText(job: string, number: number, start: number, options: { signal?: AbortSignal } = {}): Promise<ConsoleChunk> {
    const what = `console of ${job} #${number}`;
    if (!Number.isSafeInteger(start) || start < 0) throw new JenkinsError('invalid_request', 'Console offset must be a non-negative integer');
    const response = await this.http.send({
      method: 'GET',
      path: `${jobPath(job)}/${checkId(number)}/logText/progressiveText`,
      query: new URLSearchParams({ start: String(start) }),
      what,
      ...signalArg(options.signal),
    });
    if (response.status !== 200) throw await this.http.statusError(response, what);
    const size = response.headers.get('x-text-size');
    const nextStart = size !== null && /^\d+$/.test(size) ? Number(size) : NaN;
    if (!Number.isSafeInteger(nextStart)) throw new JenkinsError('unexpected_response', `Jenkins ${what}: missing or invalid X-Text-Size`, { status: 200 });
    const data = await this.http.bytes(response, what);
    const moreData = response.headers.get('x-more-data')?.toLowerCase() === 'true';
    return { data, text: data.toString('utf8'), nextStart, moreData };
  }

  /** Asks Jenkins to abort a running build (POST stop; answered with a redirect). Idempotent. */
  async stopBuild(job: string, number: number): Promise<void> {
    const what = `stop ${job} #${number}`;
    const response = await this.http.send({ method: 'POST', path: `${jobPath(job)}/${checkId(number)}/stop`, what });
    if (response.status >= 400) throw await this.http.statusError(response, what);
    await discard(response);
  }

  /** Trigger → wait in the queue → stream the console → the result. See follow-build.ts. */
  followBuild(options: FollowBuildOptions): Promise<FollowBuildResult> {
    return followBuild(this, options);
  }
}

/** The client for the configured controller (config.jenkins), or null when none is configured. */
export function createJenkinsClient(
  config: { url: string; user: string | null; token: string | null } | null,
  options: { timeoutMs?: number } = {},
): JenkinsClient | null {
  if (!config) return null;
  return new JenkinsClient({ url: config.url, user: config.user, token: config.token, ...options });
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0) throw new JenkinsError('invalid_request', `Invalid Jenkins id ${String(id)}`);
  return id;
}

function parseQueueItem(id: number, body: JsonObject, what: string): QueueItem {
  if (body.cancelled === true) return { id, state: 'cancelled' };
  const executable = body.executable;
  if (isObject(executable)) {
    const number = integerAt(executable, 'number');
    const url = executable.url;
    if (number === undefined || typeof url !== 'string')
      throw new JenkinsError('unexpected_response', `Jenkins ${what}: executable without number and url`, { status: 200 });
    return { id, state: 'started', build: { number, url } };
  }
  const why = typeof body.why === 'string' ? body.why : null;
  if (body.blocked === true) return { id, state: 'blocked', why };
  // A LeftItem whose executable is not assigned yet is about to start: still buildable to us.
  if (body.buildable === true || (typeof body._class === 'string' && body._class.endsWith('$LeftItem'))) return { id, state: 'buildable', why };
  return { id, state: 'waiting', why };
}

function parseBuild(number: number, body: JsonObject, what: string): BuildInfo {
  const building = body.building === true;
  // Freestyle builds have no inProgress field; only Pipeline runs report post-production.
  const inProgress = body.inProgress === true;
  const raw = body.result;
  let result: JenkinsResult | null = null;
  if (raw !== null && raw !== undefined) {
    if (typeof raw !== 'string' || !(JENKINS_RESULTS as readonly string[]).includes(raw))
      throw new JenkinsError('unexpected_response', `Jenkins ${what}: unknown result ${JSON.stringify(raw)}`, { status: 200 });
    result = raw as JenkinsResult;
  }
  const phase = building || result === null ? 'building' : inProgress ? 'post-production' : 'finished';
  return {
    number: typeof body.number === 'number' ? body.number : number,
    url: typeof body.url === 'string' ? body.url : '',
    phase,
    building,
    inProgress,
    result,
    durationMs: typeof body.duration === 'number' && !building ? body.duration : null,
  };
}
