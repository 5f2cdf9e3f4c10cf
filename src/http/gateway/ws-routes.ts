/**
 * ws://HOST:8001/ws/pipeline-runs/{run_id}, ws://HOST:8001/ws/pipeline-runs/ (all runs) and
 * ws://HOST:8001/ws/inventories/{inventory_id} (an inventory's connectivity checks, live).
 *
 * Lifecycle of a connection:
 *   handshake  rate-limited per source IP (HTTP 429 before the upgrade); a plain GET (no upgrade)
 *              or a malformed handshake is a 400 with the unified error body (ws-handshake.ts),
 *              never the empty 404 or text/html 400 the WebSocket plugin and `ws` would send;
 *   auth       the access token from `?token=` or `Authorization: Bearer`; missing, expired or
 *              invalid → close 4401 before any data (the upgrade itself cannot carry a 401 a
 *              browser's WebSocket could read);
 *   authorise  a run's feed is for the members of its project and admins (feed-access.ts); a run
 *              the user may not read closes 4404 exactly as an unknown run does. The all-runs
 *              feed shows the runs of the projects the user was a member of at connection time.
 *              An inventory's feed is for whoever may read the inventory (feed-access.ts); one the
 *              user may not read closes 4404 exactly as an unknown inventory does;
 *   watch      the current state at once; a run still going: its log so far (from the start, or
 *              from `?step=&offset=`), then live chunks and updates (run-feed.ts); unknown run → close 4404.
 *              An inventory: its latest check, then its checks' events as they come (inventory-feed.ts);
 *   end        a run's feed closes 1000 after the final status (an inventory's stays open); ping
 *              every `pingMs`, a client that missed a pong is terminated; server shutdown → 1001.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AuthService } from '../../services/auth/auth-service.js';
import type { FeedAccess } from '../../services/projects/feed-access.js';
import type { User } from '../../store/users-repository.js';
import { bearerToken } from '../auth-hook.js';
import { AppError, coerceError } from '../../domain/errors.js';
import type { App } from '../server.js';
import { FeedClient, type FeedLimits } from './feed-client.js';
import type { RunFeed } from './run-feed.js';
import type { InventoryFeed } from './inventory-feed.js';
import type { FixedWindowLimiter } from './fixed-window-limiter.js';
import { assertValidHandshake } from './ws-handshake.js';

export interface WsDeps {
  auth: AuthService;
  access: FeedAccess;
  feed: RunFeed;
  inventoryFeed: InventoryFeed;
  limiter: FixedWindowLimiter;
  limits: FeedLimits;
  pingMs: number;
}

const WsQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) });
/** A run's feed may say where its log backlog starts (docs/websocket.md): a step, a byte offset in it. */
const RunQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 4096 })),
  step: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
});
const RunParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
const InventoryParams = RunParams;

export function wsRoutes(app: App, deps: WsDeps) {
  /** Every feed: authenticate, then `watch` for a signed-in user while the client is still there; a failure closes 1011. */
  const serveFeed = (request: FastifyRequest, client: FeedClient, watch: (user: User) => Promise<void>) => {
    void authenticate(deps, request, client)
      .then(async (user) => {
        if (!user || !client.open) return;
        await watch(user);
      })
      .catch((thrown: unknown) => {
        request.log.error({ err: coerceError(thrown) }, 'websocket feed failed');
        client.close(1011, 'internal error');
      });
  };
  const onRequest = async (request: FastifyRequest) => {
    if (!request.ws)
      throw new AppError('VALIDATION_ERROR', 'This address serves WebSocket connections only: connect with "Upgrade: websocket"', {
        upgrade: ['A WebSocket handshake is required.'],
      });
    deps.limiter.take(request.ip);
    assertValidHandshake(request.method, request.headers);
  };

  // An upgrade anywhere else would be accepted by the plugin and then closed, or refused by `ws` in text/html.
  app.addHook('onRequest', async (request) => {
    if (request.ws && !request.routeOptions.url?.startsWith('/ws/'))
      throw new AppError(
        'VALIDATION_ERROR',
        'WebSocket connections are served on /ws/pipeline-runs/, /ws/pipeline-runs/{run_id} and /ws/inventories/{inventory_id} only',
        {
          upgrade: ['No WebSocket endpoint at this address.'],
        },
        { Connection: 'close' },
      );
  });

  app.get(
    '/ws/pipeline-runs/:id',
    { websocket: true, config: { public: true }, onRequest, schema: { hide: true, params: RunParams, querystring: RunQuery } },
    (socket, request) => {
      const runId = request.params.id;
      const client = new FeedClient(socket, runId, deps.limits);
      socket.on('close', () => deps.feed.unwatchRun(runId, client));
      serveFeed(request, client, async (user) => {
        if (!(await deps.access.canWatchRun(user, runId))) return client.close(4404, 'run not found');
        if (!client.open) return;
        const { step, offset } = request.query;
        const known = await deps.feed.watchRun(runId, client, { stepId: step ?? null, offset: offset ?? 0 });
        if (!known) client.close(4404, 'run not found');
      });
    },
  );

  app.get('/ws/pipeline-runs/', { websocket: true, config: { public: true }, onRequest, schema: { hide: true, querystring: WsQuery } }, (socket, request) => {
    const client = new FeedClient(socket, null, deps.limits);
    socket.on('close', () => deps.feed.unwatchAll(client));
    serveFeed(request, client, async (user) => {
      const projects = await deps.access.watchableProjects(user);
      if (client.open) deps.feed.watchAll(client, projects);
    });
  });

  app.get(
    '/ws/inventories/:id',
    { websocket: true, config: { public: true }, onRequest, schema: { hide: true, params: InventoryParams, querystring: WsQuery } },
    (socket, request) => {
      const inventoryId = request.params.id;
      const client = new FeedClient(socket, null, deps.limits);
      socket.on('close', () => deps.inventoryFeed.unwatch(inventoryId, client));
      serveFeed(request, client, async (user) => {
        if (!(await deps.access.canWatchInventory(user, inventoryId))) return client.close(4404, 'inventory not found');
        if (!client.open) return;
        await deps.inventoryFeed.watch(inventoryId, client);
      });
    },
  );

  const allClients = () => [...deps.feed.clients(), ...deps.inventoryFeed.clients()];

  let lastRound = Date.now();
  const keepalive = setInterval(() => {
    // A round that comes late means this process was busy (a fork, a GC pause): the pongs may be
    // waiting unread in the sockets, so nobody is judged on this round.
    const now = Date.now();
    const late = now - lastRound > deps.pingMs * 1.5;
    lastRound = now;
    for (const client of allClients()) {
      if (!client.alive && !late) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, deps.pingMs);
  keepalive.unref();

  app.addHook('preClose', async () => {
    clearInterval(keepalive);
    for (const client of allClients()) client.close(1001, 'server shutting down');
  });
}

async function authenticate(deps: WsDeps, request: FastifyRequest, client: FeedClient): Promise<User | null> {
  const token = (request.query as { token?: string }).token ?? bearerToken(request);
  if (!token) {
    client.close(4401, 'authentication required');
    return null;
  }
  try {
    return await deps.auth.authenticate(token);
  } catch (thrown) {
    if (thrown instanceof AppError) client.close(4401, 'invalid or expired token');
    else client.close(1011, 'authentication is unavailable');
    return null;
  }
}
