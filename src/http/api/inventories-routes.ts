/**
 * Stored Ansible inventories: /api/inventories/ with versions, a diff between two, restore, and
 * the hosts as Ansible parsed them. Permissions are the service's (the policy's `read`/`edit`).
 */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, pageOf } from '../schemas/common.js';
import { pageEnvelope, pageWindow } from '../paging.js';
import {
  CheckBody,
  CheckParams,
  CheckSchema,
  DiffQuery,
  DiffSchema,
  InventoryBody,
  InventoryHostSchema,
  InventoryListQuery,
  InventorySchema,
  InventoryVersionSchema,
  VersionParams,
} from '../schemas/inventories.js';
import type { InventoriesService } from '../../services/inventories/inventories-service.js';
import type { InventoryChecksService } from '../../services/inventories/inventory-checks.js';

export function inventoriesRoutes(inventories: InventoriesService, checks: InventoryChecksService) {
  return (app: App) => {
    const tags = ['inventories'];
    app.get(
      '/api/inventories/',
      {
        schema: {
          tags,
          summary: 'List inventories (search in the name; filter by project)',
          querystring: InventoryListQuery,
          response: { 200: pageOf(InventorySchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const q = request.query;
        const { total, items } = await inventories.list(
          currentUser(request),
          { ...(q.search ? { search: q.search } : {}), ...(q.project ? { project: q.project } : {}) },
          pageWindow(q),
        );
        return pageEnvelope(request, q, total, items);
      },
    );

    app.post(
      '/api/inventories/',
      {
        schema: {
          tags,
          summary: 'Create an inventory (parsed by Ansible: a syntax error is a 400 naming the line); it is version 1',
          body: InventoryBody,
          response: { 201: InventorySchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => reply.code(201).send(await inventories.create(currentUser(request), request.body)),
    );

    app.get(
      '/api/inventories/:id/',
      { schema: { tags, summary: 'An inventory: its latest version', params: IdParams, response: { 200: InventorySchema, ...errorResponses(400, 401, 404) } } },
      async (request) => inventories.get(currentUser(request), request.params.id),
    );

    app.put(
      '/api/inventories/:id/',
      {
        schema: {
          tags,
          summary: 'Replace an inventory: saved as a new version',
          params: IdParams,
          body: InventoryBody,
          response: { 200: InventorySchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => inventories.update(currentUser(request), request.params.id, request.body),
    );

    app.delete(
      '/api/inventories/:id/',
      {
        schema: {
          tags,
          summary: 'Delete an inventory with its versions and host checks; refused (409, details.used_by) while a pipeline step names it',
          params: IdParams,
          response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        await inventories.delete(currentUser(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/inventories/:id/versions/',
      {
        schema: {
          tags,
          summary: 'Every saved version, newest first',
          params: IdParams,
          response: { 200: Type.Array(InventoryVersionSchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => inventories.versions(currentUser(request), request.params.id),
    );

    app.get(
      '/api/inventories/:id/versions/:version/',
      {
        schema: { tags, summary: 'One version', params: VersionParams, response: { 200: InventoryVersionSchema, ...errorResponses(400, 401, 404) } },
      },
      async (request) => inventories.version(currentUser(request), request.params.id, request.params.version),
    );

    app.post(
      '/api/inventories/:id/versions/:version/restore/',
      {
        schema: {
          tags,
          summary: "Save an old version's content and credentials as the newest version",
          params: VersionParams,
          response: { 200: InventorySchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => inventories.restore(currentUser(request), request.params.id, request.params.version),
    );

    app.get(
      '/api/inventories/:id/diff/',
      {
        schema: {
          tags,
          summary: 'The unified diff of the content between two versions (?from=&to=)',
          params: IdParams,
          querystring: DiffQuery,
          response: { 200: DiffSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => inventories.diff(currentUser(request), request.params.id, request.query.from, request.query.to),
    );

    app.get(
      '/api/inventories/:id/hosts/',
      {
        schema: {
          tags,
          summary: 'Every host with its groups, variables (secrets masked) and last connectivity check',
          params: IdParams,
          response: { 200: Type.Array(InventoryHostSchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => inventories.hosts(currentUser(request), request.params.id),
    );

    app.post(
      '/api/inventories/:id/check/',
      {
        schema: {
          tags,
          summary:
            "Check the hosts' connectivity (Ansible ping and fact gathering with the inventory's ssh_key credential): per host reachable, unreachable (ssh's reason) or failed; more hosts than ANSFLOW_INVENTORY_CHECK_SYNC_HOSTS answer 202 with the check to follow",
          params: IdParams,
          body: Type.Optional(CheckBody),
          response: { 200: CheckSchema, 202: CheckSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const { accepted, check } = await checks.start(currentUser(request), request.params.id, request.body ?? {});
        if (!accepted) return reply.code(200).send(check);
        return reply.code(202).header('location', `/api/inventories/${check.inventory_id}/checks/${check.id}/`).send(check);
      },
    );

    app.get(
      '/api/inventories/:id/checks/:cid/',
      {
        schema: {
          tags,
          summary: 'One connectivity check: its status and the hosts that answered so far',
          params: CheckParams,
          response: { 200: CheckSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => checks.get(currentUser(request), request.params.id, request.params.cid),
    );
  };
}
