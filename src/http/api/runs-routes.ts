import type { Static } from 'typebox';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, textResponse } from '../schemas/common.js';
import { AllRunsQuery, LogQuery, RunListQuery, RunSchema, RunSummarySchema, TriggerBody } from '../schemas/runs.js';
import { historyEnvelope, historyPageOf, historyWindow } from '../history-paging.js';
import { notFound } from '../../domain/errors.js';
import { runBody, runSummaryBody } from '../../services/runs/run-view.js';

export function runsRoutes(app: App, { runs, pipelines }: ApiDeps) {
  app.post(
    '/api/pipelines/:id/run/',
    {
      schema: {
        tags: ['runs'],
        summary: 'Start a run (branch, variables and launch inputs optional)',
        params: IdParams,
        body: TriggerBody,
        response: { 201: RunSchema, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const user = currentUser(request);
      const body = request.body ?? {};
      const run = await runs.trigger(user, {
        pipelineId: request.params.id,
        ...(body.branch !== undefined ? { branch: body.branch } : {}),
        ...(body.commit !== undefined ? { commit: body.commit } : {}),
        ...(body.variables !== undefined ? { variables: body.variables } : {}),
        ...(body.inputs !== undefined ? { inputs: body.inputs } : {}),
        ...(body.ansible !== undefined ? { ansible: body.ansible } : {}),
        trigger: { type: 'manual', user: { id: user.id, username: user.username } },
      });
      return reply.code(201).send(runBody(run));
    },
  );

  app.get(
    '/api/pipelines/:id/runs/',
    {
      schema: {
        tags: ['runs'],
        summary: "A pipeline's run history",
        params: IdParams,
        querystring: RunListQuery,
        response: { 200: historyPageOf(RunSummarySchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const user = currentUser(request);
      await pipelines.assertReadable(user, request.params.id);
      const page = await runs.list(user, { pipelineId: request.params.id, ...runFilters(request.query) }, historyWindow(request.query));
      return historyEnvelope(request, request.query, page, runSummaryBody);
    },
  );

  app.get(
    '/api/pipeline-runs/',
    {
      schema: {
        tags: ['runs'],
        summary: "Runs of the caller's projects (filter by pipeline, project, status, branch, trigger)",
        querystring: AllRunsQuery,
        response: { 200: historyPageOf(RunSummarySchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const q = request.query;
      const filter = { ...(q.pipeline ? { pipelineId: q.pipeline } : {}), ...(q.project ? { project: q.project } : {}), ...runFilters(q) };
      const page = await runs.list(currentUser(request), filter, historyWindow(q));
      return historyEnvelope(request, q, page, runSummaryBody);
    },
  );

  app.get(
    '/api/pipeline-runs/:id/',
    {
      schema: {
        tags: ['runs'],
        summary: 'A run with its steps, progress and current step',
        params: IdParams,
        response: { 200: RunSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const run = await runs.get(currentUser(request), request.params.id);
      return runBody(run, await runs.commitStatuses(run.id));
    },
  );

  app.get(
    '/api/pipeline-runs/:id/logs/',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's log as text (whole run, or one step), from a byte offset",
        params: IdParams,
        querystring: LogQuery,
        response: {
          200: textResponse('text/plain', "The log's bytes after `offset` (UTF-8 text; empty when there are none yet)", {
            'X-Next-Offset': { type: 'integer', description: 'The offset to ask for next (`?offset=`): where this answer ends' },
            'X-Run-Status': { type: 'string', description: "The run's status when the log was read (poll again while it is not final)" },
          }),
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const run = await runs.get(currentUser(request), request.params.id);
      const stepId = request.query.step ?? null;
      if (stepId !== null && !run.steps.some((s) => s.id === stepId)) throw notFound('Step');
      const { data, nextOffset } = await runs.readLog(run, stepId, request.query.offset ?? 0);
      return reply
        .header('Content-Type', 'text/plain; charset=utf-8')
        .header('X-Next-Offset', String(nextOffset))
        .header('X-Run-Status', run.status)
        .header('X-Content-Type-Options', 'nosniff')
        .send(data);
    },
  );

  app.post(
    '/api/pipeline-runs/:id/cancel/',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run (kills its process tree)',
        params: IdParams,
        response: { 202: RunSchema, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const run = await runs.cancel(currentUser(request), request.params.id);
      return reply.code(202).send(runBody(run, await runs.commitStatuses(run.id)));
    },
  );
}

/** The list filters both run lists share, as the repository takes them. */
function runFilters(q: Static<typeof RunListQuery>) {
  return { ...(q.status ? { status: q.status } : {}), ...(q.branch !== undefined ? { branch: q.branch } : {}), ...(q.trigger ? { trigger: q.trigger } : {}) };
}
