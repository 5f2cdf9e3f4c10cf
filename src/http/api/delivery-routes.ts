/** Continuous delivery: environments and their deployment history, approval gates of runs. */
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, pageOf, PageQuery } from '../schemas/common.js';
import { ApprovalBody, DeploymentSchema, EnvironmentBody, EnvironmentListQuery, EnvironmentSchema, GateSchema } from '../schemas/environments.js';
import { pageEnvelope, pageWindow } from '../paging.js';
import type { Delivery } from '../../runtime/delivery.js';
import { Type } from 'typebox';
import { ScheduleBody, ScheduleParams, ScheduleSchema } from '../schemas/schedules.js';

const PageOnly = Type.Object(PageQuery, { additionalProperties: false });

export const deliveryRoutes =
  ({ environments, gates, schedules }: Delivery) =>
  (app: App) => {
    app.get(
      '/api/environments/',
      {
        schema: {
          tags: ['environments'],
          summary: "Environments of the caller's projects, with what is live on each",
          querystring: EnvironmentListQuery,
          response: { 200: pageOf(EnvironmentSchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const q = request.query;
        const { total, items } = await environments.list(currentUser(request), q.project ? { project: q.project } : {}, pageWindow(q));
        return pageEnvelope(request, q, total, items);
      },
    );

    app.post(
      '/api/environments/',
      {
        schema: {
          tags: ['environments'],
          summary: 'Create an environment (maintainers and owners)',
          body: EnvironmentBody,
          response: { 201: EnvironmentSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => reply.code(201).send(await environments.create(currentUser(request), request.body)),
    );

    app.get(
      '/api/environments/:id/',
      {
        schema: { tags: ['environments'], summary: 'An environment', params: IdParams, response: { 200: EnvironmentSchema, ...errorResponses(400, 401, 404) } },
      },
      async (request) => environments.get(currentUser(request), request.params.id),
    );

    app.put(
      '/api/environments/:id/',
      {
        schema: {
          tags: ['environments'],
          summary: 'Replace an environment (absent fields take their defaults)',
          params: IdParams,
          body: EnvironmentBody,
          response: { 200: EnvironmentSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => environments.update(currentUser(request), request.params.id, request.body),
    );

    app.delete(
      '/api/environments/:id/',
      {
        schema: {
          tags: ['environments'],
          summary: 'Delete an environment (runs waiting at it end cancelled; its history keeps the name)',
          params: IdParams,
          response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await environments.delete(currentUser(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/environments/:id/deployments/',
      {
        schema: {
          tags: ['environments'],
          summary: 'Deployment history: which run deployed which commit when, triggered and approved by whom, with its outcome',
          params: IdParams,
          querystring: PageOnly,
          response: { 200: pageOf(DeploymentSchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const { total, items } = await environments.deployments(currentUser(request), request.params.id, pageWindow(request.query));
        return pageEnvelope(request, request.query, total, items);
      },
    );

    app.get(
      '/api/pipeline-runs/:id/approvals/',
      {
        schema: {
          tags: ['runs'],
          summary: "A run's approval gate: its environment, who may approve, the decisions so far",
          params: IdParams,
          response: { 200: GateSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => gates.view(currentUser(request), request.params.id),
    );

    app.post(
      '/api/pipeline-runs/:id/approvals/',
      {
        schema: {
          tags: ['runs'],
          summary: 'Approve or reject a run waiting at its environment (409 when it is not waiting, or you already decided)',
          params: IdParams,
          body: ApprovalBody,
          response: { 201: GateSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        return reply.code(201).send(
          await gates.decide(currentUser(request), request.params.id, {
            decision: body.decision,
            ...(body.comment !== undefined ? { comment: body.comment } : {}),
          }),
        );
      },
    );

    app.get(
      '/api/pipelines/:id/schedules/',
      {
        schema: {
          tags: ['schedules'],
          summary: "A pipeline's schedules, each with its next five fire times and its recent fires",
          params: IdParams,
          response: { 200: Type.Array(ScheduleSchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => schedules.list(currentUser(request), request.params.id),
    );

    app.post(
      '/api/pipelines/:id/schedules/',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Add a schedule (cron in a time zone) to a pipeline',
          params: IdParams,
          body: ScheduleBody,
          response: { 201: ScheduleSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => reply.code(201).send(await schedules.create(currentUser(request), request.params.id, request.body)),
    );

    app.put(
      '/api/pipelines/:id/schedules/:sid/',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Replace a schedule (it counts from now: times before the change never fire)',
          params: ScheduleParams,
          body: ScheduleBody,
          response: { 200: ScheduleSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => schedules.update(currentUser(request), request.params.id, request.params.sid, request.body),
    );

    app.delete(
      '/api/pipelines/:id/schedules/:sid/',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Delete a schedule',
          params: ScheduleParams,
          response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await schedules.delete(currentUser(request), request.params.id, request.params.sid);
        return reply.code(204).send(null);
      },
    );
  };
