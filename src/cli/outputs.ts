/**
 * Build outputs from the command line, through the API like any user (docs/artifacts.md):
 *   ansflow artifacts RUN                                a run's artifacts
 *   ansflow artifacts download RUN ARTIFACT [-o FILE]    one as .tar.gz, streamed to disk (or stdout: -o -)
 *   ansflow retry RUN [--from failed|STEP] [--follow]    a new run reusing the steps before the retry point
 *   ansflow caches PIPELINE [--clear]                    a pipeline's caches and hit rate; --clear removes them
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline as pump } from 'node:stream/promises';
import { ApiClient, connectApi } from './api-client.js';
import { CliError } from './cli-error.js';
import { parseOptions } from './options.js';
import { findPipeline, follow } from './run.js';

const AUTH = `  --url, --token, --user, --password-stdin   as for \`ansflow run\``;
const AUTH_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  user: { type: 'string' },
  'password-stdin': { type: 'boolean' },
} as const;

const ARTIFACTS_HELP = `Usage: ansflow artifacts RUN
       ansflow artifacts download RUN ARTIFACT [-o FILE]

  RUN                 a run's id
  (no action)         the run's artifacts: id, name, status, size, files, expiry
  download            ARTIFACT (its id or name) as a .tar.gz, streamed to FILE
                      (default: ARTIFACT.tar.gz in this folder; '-': standard output)

Options:
  -o, --output <file>  where download writes
${AUTH}`;

const RETRY_HELP = `Usage: ansflow retry RUN [--from failed|STEP] [--follow]

Starts a new run of a finished run's commit and definition that reuses the steps before the retry
point (not run again) and starts the rest from the workspace as the original left it.

Options:
  --from <failed|step>  'failed' (default): the steps that did not succeed and what needs them;
                        a step's name or id: that step and what comes after it
  --follow, -f          follow the new run's log until it finishes (exit 0 only on success)
${AUTH}

When the original's workspace snapshot is gone, the API refuses and says why; run the whole
pipeline again with \`ansflow run\`.`;

const CACHES_HELP = `Usage: ansflow caches PIPELINE [--project P] [--clear]

  PIPELINE            a pipeline's id or name
  (no option)         its caches: key, scope, size, files, hits, last use; then the totals and hit rate
  --clear             remove every cache of the pipeline (who may edit the pipeline)

Options:
  --project <name|id>  the project of the named pipeline
${AUTH}`;

interface Artifact {
  id: number;
  name: string;
  status: 'stored' | 'failed';
  file_count: number;
  size_bytes: number;
  error: string | null;
  expires_at: string | null;
  download_url: string;
}

interface Caches {
  count: number;
  total_bytes: number;
  stats: { lookups: number; exact_hits: number; partial_hits: number; hit_rate: number | null };
  results: Array<{ id: number; scope: string; key: string; size_bytes: number; entries: number; hits: number; last_used_at: string }>;
}

/** Bytes in binary units, as the web UI shows them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function runId(text: string | undefined, help: string): number {
  if (!text || !/^\d+$/.test(text)) throw new CliError(`expected a run id, got "${text ?? ''}"\n\n${help}`);
  return Number(text);
}

export async function artifactsCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { output: { type: 'string', short: 'o' }, ...AUTH_OPTIONS }, ARTIFACTS_HELP, true);
  if (!parsed) return 0;
  const v = parsed.values;
  const download = parsed.positionals[0] === 'download';
  const args = download ? parsed.positionals.slice(1) : parsed.positionals;
  if (args.length !== (download ? 2 : 1)) throw new CliError(`${download ? 'download needs RUN and ARTIFACT' : 'expected one RUN'}\n\n${ARTIFACTS_HELP}`);
  if (!download && v.output !== undefined) throw new CliError(`-o is for download\n\n${ARTIFACTS_HELP}`);
  const run = runId(args[0], ARTIFACTS_HELP);
  const api = await connectApi({ url: v.url, token: v.token, user: v.user, passwordStdin: v['password-stdin'] });
  const list = ((await api.call('GET', `/api/pipeline-runs/${run}/artifacts/`)) as { results: Artifact[] }).results;

  if (!download) {
    if (list.length === 0) console.error(`Run ${run} has no artifacts.`);
    for (const a of list)
      console.log(
        [
          a.id,
          a.name,
          a.status,
          a.status === 'stored' ? formatBytes(a.size_bytes) : '-',
          a.status === 'stored' ? `${a.file_count} files` : (a.error ?? '-'),
          a.expires_at ? `expires ${a.expires_at}` : 'kept with the run',
        ].join('\t'),
      );
    return 0;
  }

  const wanted = args[1]!;
  const artifact = list.find((a) => String(a.id) === wanted) ?? list.find((a) => a.name === wanted);
  if (!artifact) throw new CliError(`run ${run} has no artifact "${wanted}"${list.length ? ` (it has: ${list.map((a) => a.name).join(', ')})` : ''}`);
  if (artifact.status !== 'stored') throw new CliError(`the artifact "${artifact.name}" was not stored: ${artifact.error ?? 'unknown reason'}`);
  return downloadTo(api, artifact, v.output ?? `${artifact.name}.tar.gz`);
}

/** Streams the archive to `target` (through a temporary name, so a failed download leaves no partial file) or to stdout. */
async function downloadTo(api: ApiClient, artifact: Artifact, target: string): Promise<number> {
  const response = await api.raw('GET', artifact.download_url);
  if (!response.ok) throw await ApiClient.failure('GET', artifact.download_url, response);
  if (!response.body) throw new CliError(`download of "${artifact.name}" failed: an empty answer`);
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  if (target === '-') {
    await pump(body, process.stdout);
    return 0;
  }
  const partial = `${target}.part-${process.pid}`;
  try {
    await pump(body, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw new CliError(`download of "${artifact.name}" failed: ${(error as Error).message}`);
  }
  console.error(`Wrote ${target} (${artifact.name}: ${artifact.file_count} files, ${formatBytes(artifact.size_bytes)} before compression).`);
  return 0;
}

export async function retryCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { from: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, ...AUTH_OPTIONS }, RETRY_HELP, true);
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new CliError(`expected one RUN\n\n${RETRY_HELP}`);
  const run = runId(parsed.positionals[0], RETRY_HELP);
  const from = v.from ?? 'failed';
  const api = await connectApi({ url: v.url, token: v.token, user: v.user, passwordStdin: v['password-stdin'] });
  // Digits are a step's id (the API's integer form); anything else a step's name.
  const body = { from: /^\d+$/.test(from) ? Number(from) : from };
  const response = await api.raw('POST', `/api/pipeline-runs/${run}/retry/`, body);
  if (response.status === 409) {
    const error = ((await response.json().catch(() => ({}))) as { error?: { message?: string; details?: Record<string, string[]> } }).error;
    const full = error?.details?.full_rerun?.[0];
    throw new CliError(`run ${run} cannot be retried: ${error?.message ?? 'refused'}${full ? `\n(a full run instead: ${full}, or \`ansflow run\`)` : ''}`);
  }
  if (!response.ok) throw await ApiClient.failure('POST', `/api/pipeline-runs/${run}/retry/`, response);
  const created = (await response.json()) as {
    id: number;
    number: number;
    pipeline: { name: string };
    retry_of: { number: number; from: string };
    steps: Array<{ name: string; reused_from: number | null }>;
  };
  const reused = created.steps.filter((s) => s.reused_from !== null).map((s) => s.name);
  console.error(
    `Run #${created.number} of "${created.pipeline.name}" retries #${created.retry_of.number} from ${from === 'failed' ? 'its failed steps' : `step "${created.retry_of.from}"`} (run id ${created.id}); reused: ${reused.length ? reused.join(', ') : 'none'}.`,
  );
  if (!v.follow) {
    console.log(created.id);
    return 0;
  }
  return follow(api, created.id);
}

export async function cachesCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { project: { type: 'string' }, clear: { type: 'boolean' }, ...AUTH_OPTIONS }, CACHES_HELP, true);
  if (!parsed) return 0;
  const v = parsed.values;
  const target = parsed.positionals[0];
  if (!target || parsed.positionals.length > 1) throw new CliError(`expected one PIPELINE\n\n${CACHES_HELP}`);
  const api = await connectApi({ url: v.url, token: v.token, user: v.user, passwordStdin: v['password-stdin'] });
  const pipelineId = /^\d+$/.test(target) ? Number(target) : await findPipeline(api, target, v.project);
  if (v.clear) {
    const { deleted } = (await api.call('DELETE', `/api/pipelines/${pipelineId}/caches/`)) as { deleted: number };
    console.log(`cleared ${deleted} ${deleted === 1 ? 'cache' : 'caches'}`);
    return 0;
  }
  const caches = (await api.call('GET', `/api/pipelines/${pipelineId}/caches/`)) as Caches;
  for (const c of caches.results)
    console.log([c.key, c.scope, formatBytes(c.size_bytes), `${c.entries} files`, `${c.hits} hits`, `last used ${c.last_used_at}`].join('\t'));
  const { lookups, exact_hits, partial_hits, hit_rate } = caches.stats;
  console.log(
    `${caches.count} ${caches.count === 1 ? 'cache' : 'caches'}, ${formatBytes(caches.total_bytes)}; ${lookups} lookups, ${exact_hits} exact and ${partial_hits} partial hits; hit rate ${hit_rate === null ? '-' : `${Math.round(hit_rate * 100)}%`}`,
  );
  return 0;
}
