/**
 * Drives one Jenkins build from trigger to result:
 *   1. trigger (POST buildWithParameters/build) → queue item id;
 *   2. poll the queue item until it starts (→ build number and URL) or is cancelled in Jenkins;
 *   3. poll logText/progressiveText from the last X-Text-Size until X-More-Data disappears,
 *      handing each piece to onConsole (decoded as a UTF-8 stream: pieces may split characters);
 *   4. poll the build until it has left post-production, and resolve with its result.
 * Cancellation: when `signal` aborts, a queued item is cancelled in Jenkins (and stopped if it
 * started meanwhile), a running build is stopped with POST stop, and the promise resolves with
 * result ABORTED; it does not reject for the abort. Transient failures while polling (Jenkins
 * restarting, timeouts, 5xx) are retried up to `maxTransientErrors` consecutive times; any other
 * JenkinsError rejects.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { coerceError } from '../../domain/errors.js';
import { isTransientJenkinsError } from './jenkins-error.js';
import { signalArg } from './jenkins-http.js';
import type { JenkinsClient } from './jenkins-client.js';
import type { BuildRef, JenkinsResult, QueuedBuild } from './jenkins-types.js';

export interface FollowBuildOptions {
  job: string;
  params?: Record<string, string>;
  signal?: AbortSignal;
  onConsole?: (text: string) => void;
  onQueued?: (queued: QueuedBuild) => void;
  onStarted?: (build: BuildRef) => void;
  /** Pause between polls. Default 2000 ms. */
  pollMs?: number;
  /** Consecutive transient poll failures tolerated before giving up. Default 5. */
  maxTransientErrors?: number;
}

export interface FollowBuildResult {
  result: JenkinsResult;
  /** null when no build ever started (cancelled while queued). */
  number: number | null;
  url: string | null;
  queueId: number | null;
  /** True when our signal aborted the build (stopped or cancelled by us). */
  aborted: boolean;
  /** Set when stopping or cancelling in Jenkins failed after an abort. */
  stopError?: string;
}

export async function followBuild(client: JenkinsClient, options: FollowBuildOptions): Promise<FollowBuildResult> {
  const { job, signal } = options;
  const pollMs = options.pollMs ?? 2000;
  const aborted = (queueId: number | null, build: BuildRef | null, stopError?: string): FollowBuildResult => ({
    result: 'ABORTED',
    number: build?.number ?? null,
    url: build?.url ?? null,
    queueId,
    aborted: true,
    ...(stopError ? { stopError } : {}),
  });
  if (signal?.aborted) return aborted(null, null);

  // The trigger is not given the signal: once sent, we must learn the queue id to clean it up.
  const queued = await client.triggerBuild(job, options.params ?? {});
  options.onQueued?.(queued);
  const poll = poller(options, pollMs);

  let build: BuildRef | null = null;
  try {
    build = await waitForStart(client, queued.queueId, poll, pollMs, signal);
    if (build === null) return { result: 'ABORTED', number: null, url: null, queueId: queued.queueId, aborted: false };
    options.onStarted?.(build);
    const started = build;

    const decoder = new TextDecoder('utf-8');
    let start = 0;
    for (;;) {
      const chunk = await poll(() => client.progressiveText(job, started.number, start, signalArg(signal)));
      if (chunk.data.length > 0) emit(options, decoder.decode(chunk.data, { stream: true }));
      start = chunk.nextStart;
      if (!chunk.moreData) break;
      await sleep(pollMs, undefined, signalArg(signal));
    }
    emit(options, decoder.decode());

    for (;;) {
      const info = await poll(() => client.getBuild(job, started.number, signalArg(signal)));
      if (info.phase === 'finished' && info.result !== null)
        return { result: info.result, number: started.number, url: started.url, queueId: queued.queueId, aborted: false };
      await sleep(pollMs, undefined, signalArg(signal));
    }
  } catch (thrown) {
    if (!signal?.aborted) throw thrown;
    return build ? stopStarted(client, job, queued.queueId, build, aborted) : cancelQueued(client, job, queued.queueId, aborted);
  }
}

type Poll = <T>(call: () => Promise<T>) => Promise<T>;

/** Resolves with the started build, or null when the item was cancelled inside Jenkins. */
async function waitForStart(client: JenkinsClient, queueId: number, poll: Poll, pollMs: number, signal: AbortSignal | undefined): Promise<BuildRef | null> {
  for (;;) {
    const item = await poll(() => client.getQueueItem(queueId, signalArg(signal)));
    if (item.state === 'started') return item.build;
    if (item.state === 'cancelled') return null;
    await sleep(pollMs, undefined, signalArg(signal));
  }
}

/** Retries transient failures between polls; aborts and other errors go straight through. */
function poller(options: FollowBuildOptions, pollMs: number): Poll {
  const limit = options.maxTransientErrors ?? 5;
  return async (call) => {
    for (let failures = 0; ; failures++) {
      try {
        return await call();
      } catch (thrown) {
        if (options.signal?.aborted || !isTransientJenkinsError(thrown) || failures >= limit) throw thrown;
        await sleep(pollMs, undefined, signalArg(options.signal));
      }
    }
  };
}

async function stopStarted(
  client: JenkinsClient,
  job: string,
  queueId: number,
  build: BuildRef,
  aborted: (queueId: number | null, build: BuildRef | null, stopError?: string) => FollowBuildResult,
): Promise<FollowBuildResult> {
  try {
    await client.stopBuild(job, build.number);
    return aborted(queueId, build);
  } catch (thrown) {
    return aborted(queueId, build, coerceError(thrown).message);
  }
}

/** Cancels the queue item; if the build started in the meantime, stops it instead. */
async function cancelQueued(
  client: JenkinsClient,
  job: string,
  queueId: number,
  aborted: (queueId: number | null, build: BuildRef | null, stopError?: string) => FollowBuildResult,
): Promise<FollowBuildResult> {
  let cancelError: string | undefined;
  try {
    await client.cancelQueueItem(queueId);
  } catch (thrown) {
    cancelError = coerceError(thrown).message;
  }
  try {
    const item = await client.getQueueItem(queueId);
    if (item.state === 'started') return stopStarted(client, job, queueId, item.build, aborted);
  } catch {
    // The item is gone or Jenkins is unreachable: report what the cancel itself said.
  }
  return aborted(queueId, null, cancelError);
}

function emit(options: FollowBuildOptions, text: string): void {
  if (text.length > 0) options.onConsole?.(text);
}
