import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, pageOf } from '../schemas/common.js';
import { PipelineBody, PipelineListQuery, PipelinePatchBody, PipelineSchema, PipelineSummarySchema } from '../schemas/pipelines.js';
import { pageEnvelope, pageWindow } from '../paging.js';
import { maskedVariables } from '../../services/pipelines-service.js';
import type { Pipeline } from '../../store/pipelines-repository.js';
import { redactGitUrl, redactStepRepositories } from '../../domain/git-url.js';

/** The API form of a pipeline: secret variable values and credentials in repository URLs never leave the server. */
export const pipelineBody = (p: Pipeline) => ({
  ...p,
  repository_url: redactedUrl(p.repository_url),
  steps: redactStepRepositories(p.steps),
  variables: maskedVariables(p.variables),
});

const redactedUrl = (url: string | null) => (url === null ? null : redactGitUrl(url));

export function pipelinesRoutes(app: App, { pipelines }: ApiDeps) {
  app.get(
    '/api/pipelines/',
    {
      schema: {
        tags: ['pipelines'],
        summary: "List the pipelines of the caller's projects (search in name and description, filter by status, creator and project)",
        querystring: PipelineListQuery,
        response: { 200: pageOf(PipelineSummarySchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const q = request.query;
      const filter = {
        ...(q.search ? { search: q.search } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.created_by ? { createdBy: q.created_by } : {}),
        ...(q.project ? { project: q.project } : {}),
      };
      const { total, items } = await pipelines.list(currentUser(request), filter, pageWindow(q));
      return pageEnvelope(
        request,
        q,
        total,
        items.map((p) => ({ ...p, repository_url: redactedUrl(p.repository_url) })),
      );
    },
  );

  app.post(
    '/api/pipelines/',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Create a pipeline (in `project`, or the `default` project when omitted)',
        body: PipelineBody,
        response: { 201: PipelineSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(pipelineBody(await pipelines.create(currentUser(request), request.body))),
  );

  app.get(
    '/api/pipelines/:id/',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'A pipeline with its steps and variables',
        params: IdParams,
        response: { 200: PipelineSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => pipelineBody(await pipelines.get(currentUser(request), request.params.id)),
  );

  app.put(
    '/api/pipelines/:id/',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Replace a pipeline',
        params: IdParams,
        body: PipelineBody,
        response: { 200: PipelineSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => pipelineBody(await pipelines.replace(currentUser(request), request.params.id, request.body)),
  );

  app.patch(
    '/api/pipelines/:id/',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Change some fields of a pipeline',
        params: IdParams,
        body: PipelinePatchBody,
        response: { 200: PipelineSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => pipelineBody(await pipelines.patch(currentUser(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/pipelines/:id/',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Delete a pipeline (its runs stay in history)',
        params: IdParams,
        response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await pipelines.delete(currentUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
