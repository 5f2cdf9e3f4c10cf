/**
 * GET /api/pipelines/{id}/badge.svg?branch=main — public route (no login needed) that decides
 * itself: a bearer token, when sent, must be valid and may read the pipeline; without one, only
 * a pipeline with `badge_public` answers. Never cached by a proxy for long (the status changes).
 */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { bearerToken, requestOrigin } from '../auth-hook.js';
import { errorResponses, IdParams, textResponse } from '../schemas/common.js';
import { validationError } from '../../domain/errors.js';
import { branchNameProblem } from '../../domain/git-url.js';
import type { AuthService } from '../../services/auth/auth-service.js';
import type { PipelineBadges } from '../../services/pipelines/pipeline-badge.js';

const BadgeQuery = Type.Object(
  { branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The branch whose latest run the badge shows; omitted: any branch' })) },
  { additionalProperties: false },
);

export function badgeRoutes(badges: PipelineBadges, auth: AuthService) {
  return (app: App) => {
    app.get(
      '/api/pipelines/:id/badge.svg',
      {
        config: { public: true },
        schema: {
          tags: ['pipelines'],
          summary: "The pipeline's status badge (SVG); without login only for pipelines with badge_public",
          params: IdParams,
          querystring: BadgeQuery,
          response: { 200: textResponse('image/svg+xml', 'The badge: an SVG image'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const branch = request.query.branch ?? null;
        const problem = branch === null ? null : branchNameProblem(branch);
        if (problem) throw validationError({ branch: [problem] });
        const token = bearerToken(request);
        const actor = token ? { ...(await auth.authenticate(token)), origin: requestOrigin(request) } : null;
        const svg = await badges.svg(actor, request.params.id, branch);
        return reply
          .header('content-type', 'image/svg+xml; charset=utf-8')
          .header('cache-control', 'no-cache, max-age=0')
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(svg);
      },
    );
  };
}
