/**
 * A fake Jenkins controller for tests: a real HTTP server on 127.0.0.1 (port 0) that speaks the
 * protocol AnsFlow's client uses, with response bodies built from the recorded shapes in
 * shared/fixtures/jenkins.
 *
 *   const jenkins = await FakeJenkins.start();            // user "ci-bot", token "api-token"
 *   jenkins.addJob('folder-a/my-job', { build: { console: ['a\n', 'b\n'], result: 'FAILURE' } });
 *   ... point the client at jenkins.url with jenkins.user / jenkins.token ...
 *   jenkins.requests                                        // everything received, in order
 *   await jenkins.stop();
 *
 * Protocol, as real Jenkins: Basic auth on every request (401 otherwise); POSTs need the crumb
 * from GET crumbIssuer/api/json AND the session cookie issued with it (403 otherwise);
 * buildWithParameters/build → 201 + Location queue/item/N/ (303 to the existing item when an
 * identical one is still queued; 400 not parameterized; 409 disabled; 302 vetoed); queue items
 * and builds advance one step per poll, so tests are deterministic without clocks:
 *   queue item: each GET serves the next state of `queue` (default ['waiting']), then it leaves
 *     the queue: started (build created), cancelled, or `expired` (404 from then on);
 *   build: each GET of its api/json or progressiveText is one tick; after tick k the first k
 *     console pieces exist; after all pieces, `postProductionTicks` ticks of post-production
 *     (building:false, inProgress:true), then finished with "Finished: RESULT". `hold` keeps it
 *     building until stop or finishBuild(). POST stop → ABORTED at once.
 * Fault modes: delay() (slower than the client's timeout), failNext() (any status on matching
 * requests), expireSessions() (crumbs go stale → 403), stop() (port closed), closedUrl().
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonFixture } from './fixtures.js';

export type FakeJenkinsResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'NOT_BUILT' | 'ABORTED';
export type FakeQueueState = 'waiting' | 'blocked' | 'buildable';

export interface FakeBuildScript {
  /** States served by successive queue polls before the item leaves the queue. Default ['waiting']. */
  queue?: FakeQueueState[];
  /** How the item leaves the queue. Default 'started'. */
  queueOutcome?: 'started' | 'cancelled' | 'expired';
  /** Console pieces; one more becomes visible per build tick. Buffers may split UTF-8 characters. */
  console?: Array<string | Uint8Array>;
  result?: FakeJenkinsResult;
  postProductionTicks?: number;
  /** Stay building after the console pieces until stopBuild or finishBuild(). */
  hold?: boolean;
}

export interface FakeJobOptions {
  /** Default true: the job takes parameters (buildWithParameters). */
  parameterized?: boolean;
  /** Disabled jobs answer 409 "is not buildable". */
  disabled?: boolean;
  /** A vetoed trigger answers 302 to the job page and queues nothing. */
  vetoed?: boolean;
  /** The script every build of this job follows. */
  build?: FakeBuildScript;
}

export interface RecordedRequest {
  method: string;
  /** Decoded path without the query (`/job/folder-a/job/my-job/buildWithParameters`). */
  path: string;
  rawUrl: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as application/x-www-form-urlencoded (empty for other bodies). */
  form: URLSearchParams;
}

export interface FakeQueueItem {
  id: number;
  job: string;
  params: Array<[string, string]>;
  polls: number;
  script: FakeBuildScript;
  cancelled: boolean;
  build: FakeBuild | null;
}

export interface FakeBuild {
  job: string;
  number: number;
  queueId: number;
  params: Array<[string, string]>;
  script: FakeBuildScript;
  ticks: number;
  /** Set when the build finished early: stopped (ABORTED) or finishBuild(). */
  forcedResult: FakeJenkinsResult | null;
  stopRequests: number;
}

interface FailRule {
  method?: string;
  path?: RegExp | string;
  status: number;
  body: string;
  times: number;
}

interface DelayRule {
  ms: number;
  match: (req: RecordedRequest) => boolean;
}

interface Job {
  name: string;
  options: FakeJobOptions;
  nextNumber: number;
}

const templates = {
  crumb: () => readJsonFixture<Record<string, unknown>>('jenkins', 'crumbIssuer.api.json.json'),
  queue: (name: string) => readJsonFixture<Record<string, unknown>>('jenkins', `queue-item.${name}.json`),
  build: (name: string) => readJsonFixture<Record<string, unknown>>('jenkins', `build.${name}.json`),
};

export class FakeJenkins {
  readonly user: string;
  readonly token: string;
  readonly requests: RecordedRequest[] = [];
  readonly queueItems = new Map<number, FakeQueueItem>();
  readonly builds: FakeBuild[] = [];
  private readonly jobs = new Map<string, Job>();
  private readonly sessions = new Map<string, string>(); // session id → crumb
  private readonly salt = randomBytes(16).toString('hex');
  private failRules: FailRule[] = [];
  private delays: DelayRule[] = [];
  private nextQueueId = 1790;
  private server: Server;
  private baseUrl = '';

  private constructor(private readonly options: { user: string; token: string; requireCrumb: boolean; crumbIssuer: boolean }) {
    this.user = options.user;
    this.token = options.token;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((thrown: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(thrown));
      });
    });
  }

  static async start(options: { user?: string; token?: string; requireCrumb?: boolean; crumbIssuer?: boolean } = {}): Promise<FakeJenkins> {
    const fake = new FakeJenkins({
      user: options.user ?? 'ci-bot',
      token: options.token ?? 'api-token',
      requireCrumb: options.requireCrumb ?? true,
      crumbIssuer: options.crumbIssuer ?? true,
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/`;
    return fake;
  }

  /** A URL on which nothing listens (connection refused): Jenkins down. */
  static async closedUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}/`;
  }

  /** Base URL with a trailing slash. */
  get url(): string {
    return this.baseUrl;
  }

  addJob(name: string, options: FakeJobOptions = {}): void {
    this.jobs.set(name, { name, options, nextNumber: 42 });
  }

  /** Changes the script of builds triggered from now on. */
  setBuildScript(job: string, script: FakeBuildScript): void {
    const entry = this.requireJob(job);
    entry.options = { ...entry.options, build: script };
  }

  build(job: string, number: number): FakeBuild | undefined {
    return this.builds.find((b) => b.job === job && b.number === number);
  }

  /** Ends a held (or any running) build with a result. */
  finishBuild(job: string, number: number, result: FakeJenkinsResult): void {
    const build = this.build(job, number);
    if (!build) throw new Error(`no build ${job} #${number}`);
    build.forcedResult = result;
  }

  /** Forgets every session: crumbs issued so far are refused with 403 from now on. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Delays answers (to matching requests) by `ms`: "slow" mode, beyond the client's timeout. */
  delay(ms: number, match: (req: RecordedRequest) => boolean = () => true): void {
    this.delays.push({ ms, match });
  }

  /** Answers the next `times` (default 1) matching requests with `status` instead of handling them. */
  failNext(rule: { method?: string; path?: RegExp | string; status: number; body?: string; times?: number }): void {
    this.failRules.push({ ...rule, body: rule.body ?? `<html><body><h1>HTTP ${rule.status}</h1></body></html>`, times: rule.times ?? 1 });
  }

  /** Requests whose path ends with `suffix` (and have `method`, when given). */
  requestsTo(suffix: string, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix) && (method === undefined || r.method === method));
  }

  /** Closes the port and drops open connections; the URL then refuses connections. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const recorded = await record(req);
    this.requests.push(recorded);
    const delay = this.delays.find((d) => d.match(recorded));
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay.ms));
    if (res.destroyed) return;

    if (!this.authorized(recorded.headers.authorization)) {
      return send(res, 401, 'Unauthorized', { 'www-authenticate': 'Basic realm="Jenkins"' });
    }
    const rule = this.failRules.find(
      (r) =>
        r.times > 0 &&
        (r.method === undefined || r.method === recorded.method) &&
        (r.path === undefined || (typeof r.path === 'string' ? recorded.path.endsWith(r.path) : r.path.test(recorded.path))),
    );
    if (rule) {
      rule.times--;
      return send(res, rule.status, rule.body, { 'content-type': 'text/html;charset=utf-8' });
    }
    if (recorded.path === '/crumbIssuer/api/json' && recorded.method === 'GET') return this.issueCrumb(res);
    if (recorded.method === 'POST' && this.options.requireCrumb && !this.validCrumb(recorded.headers)) {
      return send(res, 403, 'No valid crumb was included in the request', { 'content-type': 'text/plain' });
    }
    const queueMatch = /^\/queue\/item\/(\d+)\/api\/json$/.exec(recorded.path);
    if (queueMatch && recorded.method === 'GET') return this.queueItem(res, Number(queueMatch[1]));
    if (recorded.path === '/queue/cancelItem' && recorded.method === 'POST') return this.cancelItem(res, Number(recorded.query.get('id')));

    const route = parseJobRoute(recorded.path);
    const job = route ? this.jobs.get(route.job) : undefined;
    if (!route || !job) return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
    const [first, second, third] = route.rest;
    if (recorded.method === 'POST' && (first === 'build' || first === 'buildWithParameters') && route.rest.length === 1)
      return this.trigger(res, job, first, recorded);
    const number = first !== undefined && /^\d+$/.test(first) ? Number(first) : null;
    const build = number === null ? undefined : this.build(job.name, number);
    if (number === null || !build) return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
    if (recorded.method === 'GET' && second === 'api' && third === 'json') return this.buildJson(res, build);
    if (recorded.method === 'GET' && second === 'logText' && third === 'progressiveText') return this.progressiveText(res, build, recorded.query.get('start'));
    if (recorded.method === 'POST' && second === 'stop' && route.rest.length === 2) return this.stopBuild(res, build);
    return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
  }

  private authorized(header: string | undefined): boolean {
    const expected = `Basic ${Buffer.from(`${this.user}:${this.token}`).toString('base64')}`;
    return header === expected;
  }

  private issueCrumb(res: ServerResponse): void {
    if (!this.options.crumbIssuer) return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
    const session = `node0${randomBytes(12).toString('hex')}.node0`;
    const crumb = createHash('sha256').update(`${this.user};${session}${this.salt}`).digest('hex');
    this.sessions.set(session, crumb);
    const body = { ...templates.crumb(), crumb };
    send(res, 200, JSON.stringify(body), {
      'content-type': 'application/json;charset=utf-8',
      'set-cookie': `JSESSIONID.5f1a2b3c=${session}; Path=/; HttpOnly`,
      'x-content-type-options': 'nosniff',
    });
  }

  private validCrumb(headers: IncomingHttpHeaders): boolean {
    const session = /(?:^|;\s*)JSESSIONID\.5f1a2b3c=([^;]+)/.exec(headers.cookie ?? '')?.[1];
    const crumb = headers['jenkins-crumb'];
    return session !== undefined && typeof crumb === 'string' && this.sessions.get(session) === crumb;
  }

  private trigger(res: ServerResponse, job: Job, endpoint: 'build' | 'buildWithParameters', req: RecordedRequest): void {
    const parameterized = job.options.parameterized ?? true;
    if (endpoint === 'buildWithParameters' && !parameterized)
      return send(res, 400, `<html><body><h2>${job.name} is not parameterized</h2></body></html>`, { 'content-type': 'text/html' });
    if (job.options.disabled) return send(res, 409, `<html><body><h2>${job.name} is not buildable</h2></body></html>`, { 'content-type': 'text/html' });
    if (job.options.vetoed) return send(res, 302, '', { location: `${this.baseUrl}${jobUrlPath(job.name)}` });
    // Jenkins reads parameters from the query string and the form body alike.
    const reserved = new Set(['delay', 'token', 'cause']);
    const params = [...req.query.entries(), ...req.form.entries()].filter(([name]) => !reserved.has(name));
    const script = job.options.build ?? {};
    const same = [...this.queueItems.values()].find(
      (q) => q.job === job.name && !q.cancelled && q.polls < (q.script.queue ?? ['waiting']).length && sameParams(q.params, params),
    );
    if (same) return send(res, 303, '', { location: `${this.baseUrl}queue/item/${same.id}/` });
    const id = this.nextQueueId++;
    this.queueItems.set(id, { id, job: job.name, params, polls: 0, script, cancelled: false, build: null });
    send(res, 201, '', { location: `${this.baseUrl}queue/item/${id}/` });
  }

  private queueItem(res: ServerResponse, id: number): void {
    const item = this.queueItems.get(id);
    if (!item) return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
    const states = item.script.queue ?? ['waiting'];
    const outcome = item.script.queueOutcome ?? 'started';
    item.polls++;
    const base = { id, url: `queue/item/${id}/`, params: item.params.map(([k, v]) => `\n${k}=${v}`).join(''), task: this.taskOf(item.job) };
    if (item.cancelled) return sendJson(res, { ...templates.queue('left-cancelled'), ...base });
    if (item.polls <= states.length) {
      const state = states[item.polls - 1] as FakeQueueState;
      return sendJson(res, { ...templates.queue(state), ...base });
    }
    if (outcome === 'expired') return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
    if (outcome === 'cancelled') {
      item.cancelled = true;
      return sendJson(res, { ...templates.queue('left-cancelled'), ...base });
    }
    if (!item.build) {
      const job = this.requireJob(item.job);
      item.build = {
        job: item.job,
        number: job.nextNumber++,
        queueId: id,
        params: item.params,
        script: item.script,
        ticks: 0,
        forcedResult: null,
        stopRequests: 0,
      };
      this.builds.push(item.build);
    }
    sendJson(res, {
      ...templates.queue('left-started'),
      ...base,
      executable: { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', number: item.build.number, url: this.buildUrl(item.build) },
    });
  }

  private cancelItem(res: ServerResponse, id: number): void {
    const item = this.queueItems.get(id);
    if (!item) return send(res, 404, 'Not Found', { 'content-type': 'text/html' });
    if (item.build || item.cancelled) return send(res, 422, 'Unprocessable', { 'content-type': 'text/plain' });
    item.cancelled = true;
    send(res, 204, '');
  }

  private buildJson(res: ServerResponse, build: FakeBuild): void {
    build.ticks++;
    const state = buildState(build);
    const template = state.phase === 'building' ? 'running' : state.phase === 'post-production' ? 'post-production' : templateFor(state.result);
    const body = {
      ...templates.build(template),
      number: build.number,
      id: String(build.number),
      displayName: `#${build.number}`,
      fullDisplayName: `${build.job.split('/').join(' » ')} #${build.number}`,
      queueId: build.queueId,
      url: this.buildUrl(build),
      building: state.phase === 'building',
      inProgress: state.phase !== 'finished',
      result: state.phase === 'building' ? null : state.result,
      actions: [
        {
          _class: 'hudson.model.ParametersAction',
          parameters: build.params.map(([name, value]) => ({ _class: 'hudson.model.StringParameterValue', name, value })),
        },
      ],
    };
    sendJson(res, body);
  }

  private progressiveText(res: ServerResponse, build: FakeBuild, startParam: string | null): void {
    build.ticks++;
    let start = 0;
    if (startParam !== null) {
      // Jenkins parses with Long.parseLong: anything else is a server error.
      if (!/^\d+$/.test(startParam)) return send(res, 500, 'java.lang.NumberFormatException', { 'content-type': 'text/plain' });
      start = Number(startParam);
    }
    const state = buildState(build);
    const log = consoleOf(build, state);
    if (start > log.length) start = 0; // "rolled over": stapler resends from the beginning
    const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8', 'x-text-size': String(log.length) };
    if (state.phase !== 'finished') headers['x-more-data'] = 'true';
    send(res, 200, log.subarray(start), headers);
  }

  private stopBuild(res: ServerResponse, build: FakeBuild): void {
    build.stopRequests++;
    if (buildState(build).phase !== 'finished') build.forcedResult = 'ABORTED';
    send(res, 302, '', { location: this.buildUrl(build) });
  }

  private buildUrl(build: FakeBuild): string {
    return `${this.baseUrl}${jobUrlPath(build.job)}/${build.number}/`;
  }

  private taskOf(job: string): Record<string, unknown> {
    return { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: job.split('/').pop(), url: `${this.baseUrl}${jobUrlPath(job)}/`, color: 'blue' };
  }

  private requireJob(name: string): Job {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`FakeJenkins: no job ${name}; call addJob first`);
    return job;
  }
}

type BuildState = { phase: 'building' | 'post-production' | 'finished'; result: FakeJenkinsResult };

function buildState(build: FakeBuild): BuildState {
  if (build.forcedResult) return { phase: 'finished', result: build.forcedResult };
  const pieces = build.script.console?.length ?? 0;
  const result = build.script.result ?? 'SUCCESS';
  if (build.ticks < pieces || build.script.hold) return { phase: 'building', result };
  if (build.ticks < pieces + (build.script.postProductionTicks ?? 0)) return { phase: 'post-production', result };
  return { phase: 'finished', result };
}

function consoleOf(build: FakeBuild, state: BuildState): Buffer {
  const pieces = (build.script.console ?? []).slice(0, build.ticks).map((p) => Buffer.from(p));
  if (build.forcedResult === 'ABORTED') pieces.push(Buffer.from('Aborted by ci-bot\n'));
  if (state.phase === 'finished') pieces.push(Buffer.from(`Finished: ${state.result}\n`));
  return Buffer.concat(pieces);
}

function templateFor(result: FakeJenkinsResult): string {
  return { SUCCESS: 'success', UNSTABLE: 'unstable', FAILURE: 'failure', NOT_BUILT: 'not-built', ABORTED: 'aborted' }[result];
}

function sameParams(a: Array<[string, string]>, b: Array<[string, string]>): boolean {
  const key = (p: Array<[string, string]>) => JSON.stringify([...p].sort());
  return key(a) === key(b);
}

function jobUrlPath(job: string): string {
  return job
    .split('/')
    .map((s) => `job/${encodeURIComponent(s)}`)
    .join('/');
}

/** `/job/a/job/b/42/api/json` → job `a/b`, rest `['42', 'api', 'json']`. */
function parseJobRoute(path: string): { job: string; rest: string[] } | null {
  const parts = path.split('/').filter((p) => p.length > 0);
  const names: string[] = [];
  let i = 0;
  while (parts[i] === 'job' && parts[i + 1] !== undefined) {
    names.push(parts[i + 1] as string);
    i += 2;
  }
  return names.length > 0 ? { job: names.join('/'), rest: parts.slice(i) } : null;
}

async function record(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const url = new URL(req.url ?? '/', 'http://fake-jenkins');
  const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    method: req.method ?? 'GET',
    path: url.pathname
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/'),
    rawUrl: req.url ?? '/',
    query: url.searchParams,
    headers: req.headers,
    body,
    form: new URLSearchParams(isForm ? body : ''),
  };
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendJson(res: ServerResponse, body: unknown): void {
  send(res, 200, JSON.stringify(body), { 'content-type': 'application/json;charset=utf-8' });
}
