/**
 * Jenkins builds triggered through the gateway (POST /api/v1/integrations/jenkins/trigger).
 *
 * trigger: checks the job and parameter names (400), then sends the build request and waits only
 * until Jenkins has queued it, so an unreachable or refusing Jenkins is the caller's 502; the
 * build is stored (status queued) and followed in the background with followBuild:
 *   queued → running (build number and URL known) → finished (result), or error (following
 *   failed). The console is kept up to `maxConsoleBytes` (the head; `console_truncated` says so)
 *   and written at most every `flushMs`.
 * close(): stops following (the Jenkins builds themselves keep running) and waits for followers.
 */
import { coerceError, notFound, permissionDenied } from '../../domain/errors.js';
import { decideGlobal, type Actor } from '../../domain/permissions.js';
import type { JenkinsClient } from '../../integrations/jenkins/jenkins-client.js';
import { JenkinsError, jenkinsErrorToAppError } from '../../integrations/jenkins/jenkins-error.js';
import { buildParametersForm, jobPath } from '../../integrations/jenkins/job-path.js';
import type { QueuedBuild } from '../../integrations/jenkins/jenkins-types.js';
import type { JenkinsBuild, JenkinsBuildPatch, JenkinsBuildsRepository } from '../../store/jenkins-builds-repository.js';
import { AppError } from '../../domain/errors.js';
import { detachable } from './detachable-client.js';

export interface JenkinsBuildsOptions {
  client: JenkinsClient | null;
  builds: JenkinsBuildsRepository;
  pollMs?: number;
  flushMs?: number;
  maxConsoleBytes?: number;
  onError?: (error: Error) => void;
}

export class JenkinsBuildsService {
  private readonly followers = new Set<Promise<void>>();
  private closed = false;
  private readonly detach: () => void;
  private readonly client: JenkinsClient | null;

  constructor(private readonly options: JenkinsBuildsOptions) {
    const d = options.client ? detachable(options.client) : null;
    this.client = d?.client ?? null;
    this.detach = d?.detach ?? (() => {});
  }

  async trigger(actor: Actor, input: { job_name: string; parameters: Record<string, string> }): Promise<JenkinsBuild> {
    if (decideGlobal(actor, 'trigger_jenkins') !== 'allow') throw permissionDenied('Viewers cannot trigger Jenkins jobs');
    try {
      // Names are checked before anything is sent (400, not 502).
      jobPath(input.job_name);
      buildParametersForm(input.parameters);
    } catch (thrown) {
      if (thrown instanceof JenkinsError) throw jenkinsErrorToAppError(thrown);
      throw thrown;
    }
    const client = this.client;
    if (!client)
      throw new AppError('UPSTREAM_ERROR', 'Jenkins is not configured: set ANSFLOW_JENKINS_URL, ANSFLOW_JENKINS_USER and ANSFLOW_JENKINS_TOKEN', {
        reason: 'not_configured',
      });

    let onQueued!: (queued: QueuedBuild) => void;
    const queuedPromise = new Promise<QueuedBuild>((resolve) => (onQueued = resolve));
    let buildId: number | null = null;
    const writes = new WriteChain(
      this.options.builds,
      () => buildId,
      (e) => this.options.onError?.(e),
      () => this.closed,
    );
    const console = new ConsoleBuffer(this.options.maxConsoleBytes ?? 1024 * 1024);
    let flushTimer: NodeJS.Timeout | null = null;
    const flushConsole = () => {
      flushTimer = null;
      writes.push({ console: console.text, console_truncated: console.truncated });
    };

    const follow = client.followBuild({
      job: input.job_name,
      params: input.parameters,
      pollMs: this.options.pollMs ?? 2000,
      onQueued,
      onStarted: (build) => writes.push({ status: 'running', build_number: build.number, build_url: build.url }),
      onConsole: (text) => {
        console.append(text);
        flushTimer ??= setTimeout(flushConsole, this.options.flushMs ?? 500);
      },
    });
    // Until Jenkins has queued the build, a failure is the caller's answer (502 with the reason).
    const first = await Promise.race([queuedPromise, follow.then(() => null)]).catch((thrown: unknown) => {
      throw thrown instanceof JenkinsError ? jenkinsErrorToAppError(thrown) : coerceError(thrown);
    });
    const queued = first ?? (await queuedPromise);
    const created = await this.options.builds.create({ jobName: input.job_name, parameters: input.parameters, queueId: queued.queueId, triggeredBy: actor.id });
    buildId = created.id;
    writes.start();

    const settled = follow.then(
      (r) => ({
        status: 'finished' as const,
        result: r.result,
        build_number: r.number,
        build_url: r.url,
        error: r.number === null ? 'The queue item was cancelled in Jenkins before the build started' : null,
      }),
      (thrown: unknown) => ({ status: 'error' as const, error: coerceError(thrown).message }),
    );
    const follower = settled.then(async (final) => {
      if (flushTimer) clearTimeout(flushTimer);
      if (writes.detached) return;
      writes.push({ ...final, console: console.text, console_truncated: console.truncated, finished_at: new Date().toISOString() });
      await writes.idle();
    });
    this.followers.add(follower);
    void follower.finally(() => this.followers.delete(follower));
    return created;
  }

  async get(id: number): Promise<JenkinsBuild> {
    const build = await this.options.builds.findById(id);
    if (!build) throw notFound('Jenkins build');
    return build;
  }

  /** Stops following; builds left unfinished stay as they are (their Jenkins builds go on). */
  async close(): Promise<void> {
    this.closed = true;
    this.detach();
    await Promise.allSettled([...this.followers]);
  }
}

/** Database writes of one build, in order, starting once the row exists. */
class WriteChain {
  private chain: Promise<void> = Promise.resolve();
  private readonly pending: JenkinsBuildPatch[] = [];
  private started = false;

  constructor(
    private readonly builds: JenkinsBuildsRepository,
    private readonly id: () => number | null,
    private readonly onError: (e: Error) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /** After close() nothing more is written: the database may already be closed. */
  get detached(): boolean {
    return this.isClosed();
  }

  push(patch: JenkinsBuildPatch): void {
    if (this.detached) return;
    this.pending.push(patch);
    if (this.started) this.drain();
  }

  start(): void {
    this.started = true;
    this.drain();
  }

  idle(): Promise<void> {
    return this.chain;
  }

  private drain(): void {
    const id = this.id();
    while (id !== null && this.pending.length > 0) {
      const patch = this.pending.shift()!;
      this.chain = this.chain.then(() => (this.detached ? undefined : this.builds.update(id, patch))).catch((e: unknown) => this.onError(coerceError(e)));
    }
  }
}

/** The first `max` bytes of a console (UTF-8), and whether more was dropped. */
class ConsoleBuffer {
  private parts: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  append(text: string): void {
    if (this.truncated) return;
    const size = Buffer.byteLength(text);
    if (this.bytes + size <= this.max) {
      this.parts.push(text);
      this.bytes += size;
      return;
    }
    const room = this.max - this.bytes;
    this.parts.push(
      Buffer.from(text)
        .subarray(0, room)
        .toString('utf8')
        .replace(/\uFFFD$/, ''),
    );
    this.bytes = this.max;
    this.truncated = true;
  }

  get text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts[0] ?? '';
  }
}
