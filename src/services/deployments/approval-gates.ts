/**
 * Approval gates: a run whose steps name an environment waits (`waiting`, no queue job, no worker
 * slot) until the environment's rule lets it through, and then becomes `queued`. Everything about
 * a gate is in the database (the run's status and times, `run_approvals`), so a gate survives any
 * restart; every move out of `waiting` is a guarded UPDATE with the queue job and the audit event
 * in its transaction (store/approval-gates-repository.ts).
 *
 * Who decides: the permission policy's `approve` first (a developer or above; domain/permissions.ts),
 * then the environment's rule on top (domain/approvals.ts: its named approvers, else maintainers
 * and owners; self-approval; one decision each). N distinct approvals release the run; one
 * rejection ends it `cancelled` with the name and the comment.
 */
import { AppError, conflict, notFound, permissionDenied, validationError } from '../../domain/errors.js';
import { isAdmin, type Actor, type ProjectRole } from '../../domain/permissions.js';
import { approvalIneligibility, approversText, gateState, type GateState } from '../../domain/approvals.js';
import { branchAllowed, needsApproval, timeoutReason, type Environment } from '../../domain/environments.js';
import { requiredLabels, runEnvironment, type StepDefinition } from '../../domain/pipeline.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import type { ApprovalGatesRepository, Decision } from '../../store/approval-gates-repository.js';
import type { EnvironmentsRepository } from '../../store/environments-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import { entry, type AuditLog } from '../audit/audit-log.js';
import type { EventBus } from '../../events/event-bus.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { StoreTx } from '../../store/transaction.js';
import { nowIso } from '../../store/time.js';

export interface GateDeps {
  runs: RunsRepository;
  gates: ApprovalGatesRepository;
  environments: EnvironmentsRepository;
  access: ProjectAccess;
  audit: AuditLog;
  events: EventBus;
  queue: JobQueue;
  /** Told when a run starts waiting for approval (notifications: `approval_requested`). */
  onApprovalRequested?: (run: Run, environment: Environment) => void;
  now?: () => Date;
}

/** What the run page and `GET …/approvals/` show of a run's gate. */
export interface GateView {
  environment: { id: number | null; name: string } | null;
  state: 'none' | 'waiting' | 'approved' | 'rejected' | 'timed_out' | 'cancelled';
  required_approvals: number;
  approvals: number;
  approvers: string;
  /** Whether the caller's decision would count now, and if not why. */
  can_decide: boolean;
  cannot_decide_reason: string | null;
  release_at: string | null;
  decisions: Array<{ user: { id: number; username: string }; decision: 'approve' | 'reject'; comment: string; commit: string | null; created_at: string }>;
  /** Set while the run waits for a maintainer to give a fork's pull request its secrets (that gate comes before the environment's). */
  fork_pull_request?: { number: number | null; author: string; commit: string } | null;
}

export interface DecisionInput {
  decision: 'approve' | 'reject';
  comment?: string;
}

/** Who the run is for: who started it, or for a webhook run the forge user who pushed or opened the pull request. */
const runFor = (run: Pick<Run, 'trigger'>) => ({ id: run.trigger.user?.id ?? null, username: run.trigger.user?.username ?? run.trigger.author ?? null });

/** The fork's pull request a run is for: number, author and head commit (what an approval is recorded against). */
const forkPullRequest = (run: Pick<Run, 'trigger' | 'commit'>) => ({
  number: run.trigger.pull_request?.number ?? null,
  author: run.trigger.author ?? '',
  commit: run.commit ?? '',
});

/** Why this person may not give a fork's pull request its secrets, or null: a maintainer, owner or admin who is not its author. */
function forkIneligibility(run: Pick<Run, 'trigger'>, voter: { id: number; username: string; projectRole: ProjectRole | null; admin: boolean }): string | null {
  if (run.trigger.author && voter.username === run.trigger.author) return 'You authored this pull request: another maintainer approves giving it the secrets.';
  if (!voter.admin && voter.projectRole !== 'maintainer' && voter.projectRole !== 'owner')
    return "Only the project's maintainers and owners approve giving a pull request from a fork the secrets.";
  return null;
}

const counted = (decisions: Decision[]) => decisions.map((d) => ({ user_id: d.user_id, username: d.username, decision: d.decision, at: d.at }));

export class ApprovalGates {
  constructor(private readonly deps: GateDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * The environment a new run deploys to and whether it waits. A step naming an environment the
   * project does not have, steps naming two, or a branch the environment does not allow: 422.
   */
  async forNewRun(
    projectId: number,
    steps: readonly StepDefinition[],
    branch: string,
    tx?: StoreTx,
  ): Promise<{ id: number; name: string; waiting: boolean } | null> {
    const { name, conflicting } = runEnvironment(steps);
    if (conflicting.length > 0)
      throw new AppError('UNPROCESSABLE_ENTITY', `The steps deploy to several environments (${conflicting.join(', ')}); a run deploys to one`);
    if (name === null) return null;
    const environment = await (tx ? this.deps.environments.in(tx) : this.deps.environments).findByName(projectId, name);
    if (!environment) throw new AppError('UNPROCESSABLE_ENTITY', `A step deploys to environment "${name}", which this project does not have`);
    if (!branchAllowed(environment, branch))
      throw new AppError('UNPROCESSABLE_ENTITY', `Branch "${branch}" may not deploy to ${name} (allowed: ${environment.branches.join(', ')})`);
    return { id: environment.id, name, waiting: needsApproval(environment) || environment.wait_timer_seconds > 0 || environment.concurrency === 'queue' };
  }

  /**
   * Right after a run was written `waiting`: with no approval needed it is released (wait timer,
   * deployment queue) at once; `latest` supersedes older waiting runs of the environment.
   */
  async afterCreate(run: Run): Promise<void> {
    if (run.status !== 'waiting' || !run.environment?.id) return;
    const environment = await this.deps.environments.findById(run.environment.id);
    if (!environment) return;
    if (environment.concurrency === 'latest') await this.supersedeOlder(environment, run);
    if (!needsApproval(environment)) await this.approve(run, environment, null, []);
    else this.deps.onApprovalRequested?.(run, environment);
  }

  /**
   * A pipeline file's run, planned by the worker that claimed it: when its steps name an
   * environment it goes back to `waiting` (`running → waiting`), its job removed so the worker's
   * slot is free, and it is planned already when its gate releases it. Returns `run` (no
   * environment: go on), `waiting`, or a reason to end the run `error`.
   */
  async holdPlannedRun(run: Run): Promise<{ outcome: 'run' } | { outcome: 'waiting' } | { outcome: 'refused'; reason: string }> {
    if (run.approved_at !== null) return { outcome: 'run' };
    let target: { id: number; name: string; waiting: boolean } | null;
    try {
      target = await this.forNewRun(run.project_id, run.definition.steps, run.branch);
    } catch (error) {
      if (error instanceof AppError) return { outcome: 'refused', reason: error.message };
      throw error;
    }
    if (target === null) return { outcome: 'run' };
    const at = this.now().toISOString();
    const held = await this.deps.audit.change((tx) => this.deps.gates.in(tx).holdRunning(run.id, target, at));
    if (!held) return { outcome: 'run' };
    this.deps.events.publish({ type: 'run_status', runId: run.id, pipelineId: run.pipeline.id, status: 'waiting', progress: 0, currentStep: null, at });
    const waiting = await this.deps.runs.findById(run.id);
    if (waiting) await this.afterCreate(waiting);
    return { outcome: 'waiting' };
  }

  async view(actor: Actor, runId: number): Promise<GateView> {
    const run = await this.deps.runs.findById(runId);
    if (!run) throw notFound('Run');
    await this.deps.access.require(actor, run.project_id, 'read', { what: 'Run' });
    return this.viewOf(run, actor);
  }

  async decide(actor: Actor, runId: number, input: DecisionInput): Promise<GateView> {
    const run = await this.deps.runs.findById(runId);
    if (!run) throw notFound('Run');
    const membership = await this.deps.access.require(actor, run.project_id, 'approve', { what: 'Run' });
    if (input.decision !== 'approve' && input.decision !== 'reject') throw validationError({ decision: ['Must be approve or reject.'] });
    const comment = (input.comment ?? '').trim();
    if (comment.length > 2000) throw validationError({ comment: ['At most 2000 characters.'] });
    if (run.status === 'waiting' && run.fork_gate === 'waiting') return this.decideFork(actor, run, membership, input.decision, comment);
    if (run.status !== 'waiting' || run.approved_at !== null) throw conflict(`The run is not waiting for approval (it is ${run.status})`);
    const environment = run.environment?.id ? await this.deps.environments.findById(run.environment.id) : null;
    if (!environment) throw conflict('The run is not waiting for approval (its environment was deleted)');
    const decided = await this.deps.gates.decisions(run.id);
    const voter = { id: actor.id, username: actor.username, projectRole: membership, admin: isAdmin(actor) };
    const why = approvalIneligibility(environment, voter, runFor(run), counted(decided));
    if (why) {
      // A second decision by the same person is a conflict with what is recorded, not a permission.
      if (decided.some((d) => d.user_id === actor.id)) throw conflict(why);
      throw permissionDenied(why);
    }

    const at = this.now().toISOString();
    const outcome = await this.deps.audit.change(async (tx, record) => {
      const gates = this.deps.gates.in(tx);
      if (!(await gates.lockUndecided(run.id))) return 'moved' as const;
      if (!(await gates.addDecision(run.id, { user_id: actor.id, username: actor.username, decision: input.decision, comment, commit: run.commit }, at)))
        return 'duplicate' as const;
      const state = gateState(environment, counted(await gates.decisions(run.id)));
      const target = { type: 'run', id: run.id, name: `${run.pipeline.name} #${run.number}` };
      await record(
        entry(
          actor,
          input.decision === 'approve' ? 'run.approve' : 'run.reject',
          target,
          { environment: { after: environment.name }, decision: { after: input.decision }, ...(comment ? { comment: { after: comment } } : {}) },
          run.project_id,
        ),
      );
      return this.applyState(tx, run, environment, state, at);
    });
    if (outcome === 'moved') throw conflict('The run is not waiting for approval any more');
    if (outcome === 'duplicate') throw conflict('You have already decided on this run.');
    this.announce(run, outcome, at);
    return this.viewOf((await this.deps.runs.findById(run.id))!, actor);
  }

  /** Whether a maintainer approved this pull request author at this head commit (a fork's run then gets its secrets at once). */
  forkApproved(pipelineId: number, author: string, commit: string): Promise<boolean> {
    return this.deps.gates.forkApproved(pipelineId, author, commit);
  }

  /**
   * A fork's pull request run given secrets: one maintainer or owner (or an admin), not the pull
   * request's author, approves it; the approval is recorded against the author and the head commit,
   * so a new commit waits again. A rejection ends the run `cancelled` with the name and comment.
   */
  private async decideFork(actor: Actor, run: Run, membership: ProjectRole | null, decision: 'approve' | 'reject', comment: string): Promise<GateView> {
    const why = forkIneligibility(run, { id: actor.id, username: actor.username, projectRole: membership, admin: isAdmin(actor) });
    if (why) throw permissionDenied(why);
    const pr = forkPullRequest(run);
    const at = this.now().toISOString();
    const target = { type: 'run', id: run.id, name: `${run.pipeline.name} #${run.number}` };
    const diff = {
      gate: { after: 'fork pull request' },
      decision: { after: decision },
      pull_request: { after: pr.number },
      author: { after: pr.author },
      commit: { after: pr.commit },
      ...(comment ? { comment: { after: comment } } : {}),
    };
    const stayWaiting = run.environment !== null && run.approved_at === null;
    const outcome = await this.deps.audit.change(async (tx, record) => {
      let moved: 'queued' | 'waiting' | 'cancelled' | null;
      if (decision === 'approve') {
        moved = await this.deps.gates.in(tx).approveFork(
          run.id,
          {
            pipeline_id: run.pipeline.id!,
            author: pr.author,
            commit_sha: pr.commit,
            pull_request: pr.number,
            approved_by: actor.id,
            approved_by_name: actor.username,
            comment,
          },
          at,
          stayWaiting,
        );
      } else {
        const reason = `pull request${pr.number !== null ? ` #${pr.number}` : ''} from a fork: secrets refused by ${actor.username}${comment ? `: ${comment.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`;
        const runs = this.deps.runs.in(tx);
        moved = (await runs.finish(run.id, 'cancelled', at, reason, ['waiting'])) ? 'cancelled' : null;
        if (moved) await runs.settleSteps(run.id, 'unfinished', 'cancelled', at);
      }
      if (moved) await record(entry(actor, decision === 'approve' ? 'run.approve' : 'run.reject', target, diff, run.project_id));
      return moved;
    });
    if (outcome === null) throw conflict('The run is not waiting for approval any more');
    if (outcome === 'waiting') {
      // Now its environment's gate: supersede, release when no approval is needed, ask for approvals.
      const waiting = await this.deps.runs.findById(run.id);
      if (waiting) await this.afterCreate(waiting);
    } else this.announce(run, outcome, at);
    return this.viewOf((await this.deps.runs.findById(run.id))!, actor);
  }

  /**
   * The gate sweeper's work, run by every API process every second: approval timeouts, wait
   * timers and deployment queues. Each move is guarded, so processes never move a run twice.
   */
  async sweep(): Promise<{ released: number[]; timedOut: number[] }> {
    const now = this.now();
    const at = now.toISOString();
    const released: number[] = [];
    const timedOut: number[] = [];
    const environments = new Map<number, Environment | null>();
    const environmentOf = async (id: number) => {
      if (!environments.has(id)) environments.set(id, await this.deps.environments.findById(id));
      return environments.get(id)!;
    };
    /** Environments (with `queue`) that got a deployment this sweep: one at a time. */
    const busy = new Set<number>();
    for (const waiting of await this.deps.gates.waiting()) {
      // A fork's run waits for a maintainer first: its environment's gate has not opened yet.
      if (waiting.environment_id === null || waiting.fork_gate === 'waiting') continue;
      const environment = await environmentOf(waiting.environment_id);
      if (!environment) continue;
      if (waiting.approved_at === null && !needsApproval(environment)) {
        // Written waiting for a timer or a queue, and the process died before it was released.
        const run = await this.deps.runs.findById(waiting.id);
        if (run) await this.approve(run, environment, null, []);
        continue;
      }
      if (waiting.approved_at === null) {
        const timeout = environment.approval_timeout_seconds;
        if (timeout === null || waiting.waiting_since === null) continue;
        if (Date.parse(waiting.waiting_since) + timeout * 1000 > now.getTime()) continue;
        const run = await this.deps.runs.findById(waiting.id);
        if (!run) continue;
        const approvedBy = (await this.deps.gates.decisions(run.id)).filter((d) => d.decision === 'approve').map((d) => d.username);
        const outcome = await this.deps.audit.change(async (tx, record) => {
          if (!(await this.deps.gates.in(tx).lockUndecided(run.id))) return 'moved' as const;
          await record(
            entry(
              null,
              'run.approval_timeout',
              { type: 'run', id: run.id, name: `${run.pipeline.name} #${run.number}` },
              {
                environment: { after: environment.name },
                outcome: { after: environment.timeout_outcome },
              },
              run.project_id,
            ),
          );
          const state: GateState = environment.timeout_outcome === 'approve' ? { state: 'approved', by: approvedBy } : { state: 'rejected', by: '' };
          return this.applyState(tx, run, environment, state, at, timeoutReason(environment, approvedBy));
        });
        if (outcome === 'moved') continue;
        timedOut.push(run.id);
        this.announce(run, outcome, at);
        continue;
      }
      if (waiting.release_at === null || Date.parse(waiting.release_at) > now.getTime()) continue;
      if (environment.concurrency === 'queue' && (busy.has(environment.id) || (await this.deps.gates.deploying(environment.id, waiting.id)))) {
        busy.add(environment.id);
        continue;
      }
      const run = await this.deps.runs.findById(waiting.id);
      if (!run) continue;
      const moved = await this.deps.audit.change((tx) => this.deps.gates.in(tx).release(run.id, at, null));
      if (moved === 'queued') {
        busy.add(environment.id);
        released.push(run.id);
        this.announce(run, 'queued', at);
      }
    }
    return { released, timedOut };
  }

  /** No approval needed (or an approval by timeout): release as the environment says. */
  private async approve(run: Run, environment: Environment, _by: string | null, _names: string[]): Promise<void> {
    const at = this.now().toISOString();
    const outcome = await this.deps.audit.change((tx) => this.applyState(tx, run, environment, { state: 'approved', by: [] }, at));
    this.announce(run, outcome, at);
  }

  /** In the decision's transaction: what the gate's state means for the run. */
  private async applyState(
    tx: StoreTx,
    run: Run,
    environment: Environment,
    state: GateState,
    at: string,
    rejectReason?: string,
  ): Promise<'queued' | 'held' | 'cancelled' | 'waiting'> {
    if (state.state === 'waiting') return 'waiting';
    if (state.state === 'rejected') {
      const decisions = await this.deps.gates.in(tx).decisions(run.id);
      const rejection = decisions.find((d) => d.decision === 'reject');
      const reason =
        rejectReason ??
        `deployment to ${environment.name} rejected by ${state.by}${rejection?.comment ? `: ${rejection.comment.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`;
      const runs = this.deps.runs.in(tx);
      if (!(await runs.finish(run.id, 'cancelled', at, reason, ['waiting']))) return 'waiting';
      await runs.settleSteps(run.id, 'unfinished', 'cancelled', at);
      return 'cancelled';
    }
    const holdUntil =
      environment.wait_timer_seconds > 0
        ? new Date(Date.parse(at) + environment.wait_timer_seconds * 1000).toISOString()
        : environment.concurrency === 'queue' && (await this.deps.gates.in(tx).deploying(environment.id, run.id))
          ? at
          : null;
    return (await this.deps.gates.in(tx).release(run.id, at, holdUntil)) ?? 'waiting';
  }

  /** After the commit: tell viewers, and wake a worker for a queued run. */
  private announce(run: Run, outcome: 'queued' | 'held' | 'cancelled' | 'waiting', at: string): void {
    if (outcome === 'queued') {
      this.deps.events.publish({ type: 'run_status', runId: run.id, pipelineId: run.pipeline.id, status: 'queued', progress: 0, currentStep: null, at });
      this.deps.queue.notify({ runId: run.id, pipelineId: run.pipeline.id, labels: requiredLabels(run.definition.steps) });
    } else if (outcome === 'cancelled') {
      this.deps.events.publish({ type: 'run_status', runId: run.id, pipelineId: run.pipeline.id, status: 'cancelled', progress: 100, currentStep: null, at });
    }
  }

  /** `latest`: older runs waiting at the environment end `cancelled`, superseded by this one. */
  private async supersedeOlder(environment: Environment, run: Run): Promise<void> {
    const at = this.now().toISOString();
    for (const older of await this.deps.gates.waiting(environment.id)) {
      if (older.id >= run.id) continue;
      const reason = `superseded by run #${run.number} (${run.pipeline.name})`;
      const cancelled = await this.deps.audit.change(async (tx, record) => {
        const runs = this.deps.runs.in(tx);
        if (!(await runs.finish(older.id, 'cancelled', at, reason, ['waiting']))) return false;
        await runs.settleSteps(older.id, 'unfinished', 'cancelled', at);
        await record(
          entry(null, 'run.cancel', { type: 'run', id: older.id, name: `run ${older.id}` }, { status: { before: 'waiting', after: reason } }, run.project_id),
        );
        return true;
      });
      if (cancelled)
        this.deps.events.publish({
          type: 'run_status',
          runId: older.id,
          pipelineId: older.pipeline_id,
          status: 'cancelled',
          progress: 100,
          currentStep: null,
          at,
        });
    }
  }

  private async viewOf(run: Run, actor: Actor): Promise<GateView> {
    if (run.status === 'waiting' && run.fork_gate === 'waiting') {
      const membership = await this.deps.access.membership(actor, run.project_id);
      const allowed = await this.deps.access.decision(actor, run.project_id, 'approve');
      const reason =
        allowed !== 'allow'
          ? 'Your role in this project does not allow approving runs'
          : forkIneligibility(run, { id: actor.id, username: actor.username, projectRole: membership, admin: isAdmin(actor) });
      const pr = forkPullRequest(run);
      return {
        environment: run.environment,
        state: 'waiting',
        required_approvals: 1,
        approvals: 0,
        approvers: `1 of: project maintainers and owners (not the pull request's author ${pr.author || 'unknown'}), for its secrets at commit ${pr.commit.slice(0, 12)}`,
        can_decide: reason === null,
        cannot_decide_reason: reason,
        release_at: null,
        decisions: [],
        fork_pull_request: pr,
      };
    }
    const decisions = await this.deps.gates.decisions(run.id);
    const environment = run.environment?.id ? await this.deps.environments.findById(run.environment.id) : null;
    const approvals = new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.user_id)).size;
    let state: GateView['state'] = 'none';
    if (run.environment) {
      if (run.status === 'waiting' && run.approved_at === null) state = 'waiting';
      else if (run.approved_at !== null) state = 'approved';
      else if (decisions.some((d) => d.decision === 'reject')) state = 'rejected';
      else if (run.error_reason?.startsWith('approval for ')) state = 'timed_out';
      else if (run.waiting_since !== null) state = 'cancelled';
    }
    let reason: string | null = state === 'waiting' ? null : 'The run is not waiting for approval.';
    if (state === 'waiting') {
      if (!environment) reason = 'The environment was deleted.';
      else {
        const membership = await this.deps.access.membership(actor, run.project_id);
        const allowed = await this.deps.access.decision(actor, run.project_id, 'approve');
        reason =
          allowed !== 'allow'
            ? 'Your role in this project does not allow approving deployments'
            : approvalIneligibility(
                environment,
                { id: actor.id, username: actor.username, projectRole: membership, admin: isAdmin(actor) },
                runFor(run),
                counted(decisions),
              );
      }
    }
    return {
      environment: run.environment,
      state,
      required_approvals: environment ? Math.max(environment.required_approvals, 0) : 0,
      approvals,
      approvers: environment ? approversText(environment) : '',
      can_decide: reason === null,
      cannot_decide_reason: reason,
      release_at: run.release_at,
      decisions: decisions.map((d) => ({
        user: { id: d.user_id, username: d.username },
        decision: d.decision,
        comment: d.comment,
        commit: d.commit,
        created_at: d.at,
      })),
    };
  }
}

export { nowIso };
