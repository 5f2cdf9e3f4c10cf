/** The Jenkins integration: trigger a job (followed in the background) and read what happened. */
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import type { JenkinsBuildsService } from '../../services/jenkins/jenkins-builds-service.js';
import type { JenkinsBuild } from '../../store/jenkins-builds-repository.js';
import { JenkinsBuildSchema, JenkinsTriggerBody } from './schemas.js';

const body = (b: JenkinsBuild) => {
  const { triggered_by: _t, ...rest } = b;
  return rest;
};

export function jenkinsRoutes(app: App, deps: { jenkins: JenkinsBuildsService }) {
  app.post(
    '/api/v1/integrations/jenkins/trigger',
    {
      schema: {
        tags: ['jenkins'],
        summary: 'Trigger a Jenkins job (developers and admins); follow it with the returned id',
        body: JenkinsTriggerBody,
        response: { 202: JenkinsBuildSchema, ...errorResponses(400, 401, 403, 502) },
      },
    },
    async (request, reply) => {
      const build = await deps.jenkins.trigger(currentUser(request), { job_name: request.body.job_name, parameters: request.body.parameters ?? {} });
      return reply.code(202).send(body(build));
    },
  );

  app.get(
    '/api/v1/integrations/jenkins/builds/:id',
    {
      schema: {
        tags: ['jenkins'],
        summary: 'A triggered Jenkins build: status, build number and URL, result, console',
        params: IdParams,
        response: { 200: JenkinsBuildSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => body(await deps.jenkins.get(request.params.id)),
  );
}
