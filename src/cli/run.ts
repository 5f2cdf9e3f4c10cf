/**
 * `ansflow run`: triggers a pipeline through the API and, with --follow, streams its log (by byte
 * offset) with step progress, exiting with the run's status: 0 success, 1 otherwise.
 */
import { connectApi, type ApiClient } from './api-client.js';
import { CliError } from './cli-error.js';
import { parseOptions } from './options.js';
import { isFinalRunStatus, type RunStatus } from '../domain/status.js';

const HELP = `Usage: ansflow run <pipeline-id|name> [--project P] [--input NAME=VALUE]... [--var K=V]... [--branch B] [--follow]

Triggers a run through the API (ANSFLOW_URL, default http://127.0.0.1:8000) and, with --follow,
prints its log live and exits with its status (0 success, 1 failed/cancelled/timeout/error).

Authentication: --token or ANSFLOW_TOKEN (an access or personal access token), else the token
ansflow login stored, else --user (ANSFLOW_USER, default admin) with the password from
ANSFLOW_PASSWORD, --password-stdin, or a prompt.

Names are unique within a project; when projects you can see have pipelines of the same name,
say which with --project (its name or id).

Options:
  --project <name|id>  the project of the named pipeline
  --input NAME=VALUE a value for one of the pipeline's launch inputs (repeatable); checked
                     against its type and options (true/false for a boolean, a number for a number)
  --var K=V          a run variable (repeatable; needs the right to override variables)
  --branch <name>    branch to run
  --follow, -f       follow the log until the run finishes
  --url <url>        the API address
  --token <token>    access token or personal access token (afp_…)
  --user <name>      username to log in as
  --password-stdin   read the password from standard input`;

type RunBody = {
  id: number;
  number: number;
  status: RunStatus;
  pipeline: { id: number; name: string };
  steps: Array<{ id: number; name: string; status: string; duration_ms: number | null; exit_code: number | null; reused_from?: number | null }>;
  error_reason: string | null;
};

export async function runCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(
    argv,
    {
      var: { type: 'string', multiple: true },
      input: { type: 'string', multiple: true },
      project: { type: 'string' },
      branch: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
      url: { type: 'string' },
      token: { type: 'string' },
      user: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const target = parsed.positionals[0];
  if (!target || parsed.positionals.length > 1) throw new CliError(`expected one pipeline id or name\n\n${HELP}`);
  const variables = pairs('--var', 'K=V', v.var);
  const inputs = pairs('--input', 'NAME=VALUE', v.input);

  const api = await connectApi({ url: v.url, token: v.token, user: v.user, passwordStdin: v['password-stdin'] });

  const pipelineId = /^\d+$/.test(target) ? Number(target) : await findPipeline(api, target, v.project);
  // Only what was given: variables (even none) ask for the right to override them.
  const run = (await api.call('POST', `/api/pipelines/${pipelineId}/run/`, {
    ...(v.branch ? { branch: v.branch } : {}),
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
  })) as RunBody;
  console.error(`Run #${run.number} of "${run.pipeline.name}" queued (run id ${run.id}).`);
  if (!v.follow) {
    console.log(run.id);
    return 0;
  }
  return follow(api, run.id);
}

/** `--var K=V` / `--input NAME=VALUE` pairs; values stay text (the API reads an input's type). */
function pairs(option: string, form: string, given: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of given ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${option} expects ${form}, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

type Page<T> = { results: T[] };

export async function findPipeline(api: ApiClient, name: string, project: string | undefined): Promise<number> {
  const projectId = project === undefined ? undefined : await findProject(api, project);
  const query = `search=${encodeURIComponent(name)}&page_size=100${projectId !== undefined ? `&project=${projectId}` : ''}`;
  const page = (await api.call('GET', `/api/pipelines/?${query}`)) as Page<{ id: number; name: string; project_id: number }>;
  const matches = page.results.filter((p) => p.name.toLowerCase() === name.toLowerCase());
  if (matches.length === 0) throw new CliError(`no pipeline named "${name}"${project !== undefined ? ` in project "${project}"` : ''}`);
  if (matches.length > 1)
    throw new CliError(
      `${matches.length} pipelines are named "${name}" (in projects ${matches.map((p) => p.project_id).join(', ')}): say which with --project`,
    );
  return matches[0]!.id;
}

async function findProject(api: ApiClient, project: string): Promise<number> {
  if (/^\d+$/.test(project)) return Number(project);
  const page = (await api.call('GET', `/api/projects/?search=${encodeURIComponent(project)}&page_size=100`)) as Page<{ id: number; name: string }>;
  const match = page.results.find((p) => p.name.toLowerCase() === project.toLowerCase());
  if (!match) throw new CliError(`no project named "${project}"`);
  return match.id;
}

export async function follow(api: ApiClient, runId: number): Promise<number> {
  let offset = 0;
  const seen = new Map<number, string>();
  const tty = process.stderr.isTTY;
  const mark = (status: string) => ({ running: '▶', success: '✔', failed: '✖', skipped: '↷', cancelled: '■', timeout: '⏱' })[status] ?? '·';
  for (;;) {
    const run = (await api.call('GET', `/api/pipeline-runs/${runId}/`)) as RunBody;
    const logs = await api.raw('GET', `/api/pipeline-runs/${runId}/logs/?offset=${offset}`);
    if (logs.ok) {
      const chunk = Buffer.from(await logs.arrayBuffer());
      if (chunk.length > 0) process.stdout.write(chunk);
      offset = Number(logs.headers.get('x-next-offset') ?? offset + chunk.length);
    }
    for (const step of run.steps) {
      if (seen.get(step.id) === step.status || step.status === 'pending') continue;
      seen.set(step.id, step.status);
      const duration = step.duration_ms !== null && step.status !== 'running' ? ` (${(step.duration_ms / 1000).toFixed(1)}s)` : '';
      // A retry's reused step did not run: its result (and log) is the original run's.
      const line = step.reused_from
        ? `↺ ${step.name}: reused (${step.status} in the original run)`
        : `${mark(step.status)} ${step.name}: ${step.status}${duration}`;
      process.stderr.write(tty ? `\x1b[1m${line}\x1b[0m\n` : `${line}\n`);
    }
    if (isFinalRunStatus(run.status)) {
      // One more read: output flushed just before the final status.
      const rest = await api.raw('GET', `/api/pipeline-runs/${runId}/logs/?offset=${offset}`);
      if (rest.ok) process.stdout.write(Buffer.from(await rest.arrayBuffer()));
      process.stderr.write(`Run ${runId} ${run.status}${run.error_reason ? `: ${run.error_reason}` : ''}\n`);
      return run.status === 'success' ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
