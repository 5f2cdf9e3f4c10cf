/**
 * `ansflow approve RUN` and `ansflow reject RUN`: a decision on a run waiting at its environment's
 * approval gate (POST /api/pipeline-runs/{id}/approvals/), printing where the gate stands after it.
 * Refusals (not an eligible approver, already decided, the run is not waiting) are the API's
 * answer, exit code 2.
 */
import { connectApi } from './api-client.js';
import { CliError } from './cli-error.js';
import { parseOptions } from './options.js';

type Decision = 'approve' | 'reject';

const help = (decision: Decision) => `Usage: ansflow ${decision} <run-id> [--comment TEXT]

${decision === 'approve' ? 'Approves' : 'Rejects'} a run waiting for approval at its environment (ANSFLOW_URL, default
http://127.0.0.1:8000). ${
  decision === 'approve'
    ? 'Once it has the approvals its environment requires, the run starts.'
    : 'A rejection ends the run cancelled, with your name and comment as the reason.'
}

Authentication: --token or ANSFLOW_TOKEN (an access or personal access token), else the token
ansflow login stored, else --user (ANSFLOW_USER, default admin) with the password from
ANSFLOW_PASSWORD, --password-stdin, or a prompt.

Options:
  --comment <text>   why (shown with the decision, and in the reason of a rejected run)
  --url <url>        the API address
  --token <token>    access token or personal access token (afp_…)
  --user <name>      username to log in as
  --password-stdin   read the password from standard input`;

interface GateBody {
  environment: { id: number | null; name: string } | null;
  state: string;
  required_approvals: number;
  approvals: number;
  approvers: string;
  release_at: string | null;
}

export const approveCommand = (argv: string[]) => decide('approve', argv);
export const rejectCommand = (argv: string[]) => decide('reject', argv);

async function decide(decision: Decision, argv: string[]): Promise<number> {
  const parsed = parseOptions(
    argv,
    {
      comment: { type: 'string', short: 'm' },
      url: { type: 'string' },
      token: { type: 'string' },
      user: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    help(decision),
    true,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const run = parsed.positionals[0];
  if (!run || parsed.positionals.length > 1 || !/^\d+$/.test(run)) throw new CliError(`expected one run id\n\n${help(decision)}`);
  const api = await connectApi({ url: v.url, token: v.token, user: v.user, passwordStdin: v['password-stdin'] });
  const gate = (await api.call('POST', `/api/pipeline-runs/${run}/approvals/`, {
    decision,
    ...(v.comment !== undefined ? { comment: v.comment } : {}),
  })) as GateBody;
  console.log(`${decision === 'approve' ? 'approved' : 'rejected'} run ${run}: ${describe(gate)}`);
  return 0;
}

function describe(gate: GateBody): string {
  const where = gate.environment ? `deployment to ${gate.environment.name}` : 'the run';
  switch (gate.state) {
    case 'waiting':
      return `${where} waits for ${gate.required_approvals - gate.approvals} more approval(s) (${gate.approvals} of ${gate.required_approvals}; ${gate.approvers})`;
    case 'approved':
      return gate.release_at ? `${where} is approved and starts at ${gate.release_at}` : `${where} is approved and starts now`;
    case 'rejected':
      return `${where} is rejected; the run ends cancelled`;
    default:
      return `${where} is ${gate.state}`;
  }
}
