/**
 * An Ansible step's per-host results and the re-run on failed hosts (services/ansible/ansible-results.ts).
 */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { RunSchema } from '../schemas/runs.js';
import { runBody } from '../../services/runs/run-view.js';
import { HOST_RESULTS } from '../../domain/ansible-events.js';
import type { AnsibleResults } from '../../services/ansible/ansible-results.js';

const StepParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), step_id: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);
const Result = Type.Enum(HOST_RESULTS);
const Counts = Type.Record(Type.String(), Type.Integer(), { description: 'ok, changed, failed, unreachable, skipped, rescued, ignored' });

const AnsibleStepSchema = Type.Object({
  run_id: Type.Integer(),
  step_id: Type.Integer(),
  plays: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), tasks: Type.Array(Type.String()) })),
  tasks: Type.Array(
    Type.Object({
      id: Type.String(),
      play_id: Type.String(),
      name: Type.String(),
      action: Type.String(),
      handler: Type.Boolean(),
      started_at: Type.String({ format: 'date-time' }),
      hosts: Type.Record(
        Type.String(),
        Type.Object({ status: Result, duration_ms: Type.Union([Type.Integer(), Type.Null()]), message: Type.Union([Type.String(), Type.Null()]) }),
      ),
    }),
  ),
  recap: Type.Record(Type.String(), Counts),
  finished: Type.Boolean({ description: "Whether Ansible's recap arrived; until then `recap` counts the results so far" }),
  hosts: Type.Array(Type.String()),
  last_seq: Type.Integer({ description: 'The highest event seq included: apply only WebSocket ansible_events with a higher seq' }),
});

const RerunSchema = Type.Object({
  run: RunSchema,
  failed: Type.Array(Type.String(), { description: 'Hosts that failed in the original run' }),
  unreachable: Type.Array(Type.String(), { description: 'Hosts that were unreachable in the original run' }),
  limit: Type.String({ description: 'The --limit every Ansible step of the new run has' }),
});

export function ansibleRoutes(results: AnsibleResults) {
  return (app: App) => {
    app.get(
      '/api/pipeline-runs/:id/steps/:step_id/ansible/',
      {
        schema: {
          tags: ['runs'],
          summary: "An Ansible step's plays, tasks with each host's result, and the recap per host (live while it runs)",
          params: StepParams,
          response: { 200: AnsibleStepSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => results.step(currentUser(request), request.params.id, request.params.step_id),
    );

    app.post(
      '/api/pipeline-runs/:id/rerun-failed-hosts/',
      {
        schema: {
          tags: ['runs'],
          summary: 'Start a new run limited to the hosts that failed or were unreachable in this one (409 when none did)',
          params: IdParams,
          response: { 201: RerunSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (request, reply) => {
        const { run, ...hosts } = await results.rerunFailedHosts(currentUser(request), request.params.id);
        return reply.code(201).send({ run: runBody(run), ...hosts });
      },
    );
  };
}
