/**
 * The status badge of a pipeline (GET /api/pipelines/{id}/badge.svg). Served without login only
 * for a pipeline that opted in (`badge_public`); otherwise an anonymous caller gets the same 404
 * as for a pipeline that does not exist, and a signed-in caller needs `read` on its project.
 */
import { notFound } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import { badgeLook, renderBadge } from '../../domain/badge-svg.js';
import type { BadgeRepository } from '../../store/badge-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';

export class PipelineBadges {
  constructor(private readonly deps: { badges: BadgeRepository; access: ProjectAccess }) {}

  /** The SVG; `actor` null for an anonymous request. */
  async svg(actor: Actor | null, pipelineId: number, branch: string | null): Promise<string> {
    const facts = await this.deps.badges.facts(pipelineId, branch);
    if (!facts) throw notFound('Pipeline');
    if (actor) await this.deps.access.require(actor, facts.project_id, 'read', { what: 'Pipeline' });
    else if (!facts.badge_public) throw notFound('Pipeline');
    return renderBadge(facts.name, badgeLook(facts.status));
  }
}
