/**
 * A stand-in for GitHub's and GitLab's commit status APIs over real HTTP, checking every call as
 * the documented APIs would:
 *   GitHub (served under /api/v3, as GitHub Enterprise does)
 *     POST /api/v3/repos/{owner}/{repo}/statuses/{sha}
 *       Authorization: `Bearer <token>` or `token <token>`; JSON {state, target_url?, description?, context?}
 *       state ∈ pending | success | failure | error  → 201 with the status
 *     GET  /api/v3/repos/{owner}/{repo}/commits/{sha}/statuses → the statuses, newest first
 *   GitLab (served under /api/v4)
 *     POST /api/v4/projects/{id or url-encoded path}/statuses/{sha}
 *       PRIVATE-TOKEN: <token> or Authorization: Bearer <token>; JSON {state, target_url?, description?, name?}
 *       state ∈ pending | running | success | failed | canceled  → 201
 *     GET  /api/v4/projects/{id}/repository/commits/{sha}/statuses
 * A wrong token is a 401 (`Bad credentials` / `401 Unauthorized`); anything else that breaks the
 * protocol (unknown path, bad body, wrong content type) is answered 4xx AND kept in `violations`,
 * so a test can assert none happened. Outages: `down()` refuses connections until `up()`;
 * `failNext(...)` answers the next calls with the given status and headers (5xx, 403/429 with
 * Retry-After or X-RateLimit-Reset).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ReceivedStatus {
  forge: 'github' | 'gitlab';
  /** `owner/repo`, or the GitLab project as sent (decoded path or id). */
  repository: string;
  sha: string;
  state: string;
  target_url: string | null;
  description: string | null;
  /** GitHub `context`; GitLab `name`. */
  context: string | null;
  /** The token it was sent with (one of those the stand-in accepts). */
  token: string;
  at: number;
}

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const GITHUB_STATES = new Set(['pending', 'success', 'failure', 'error']);
const GITLAB_STATES = new Set(['pending', 'running', 'success', 'failed', 'canceled']);
const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

export class FakeForge {
  /** Accepted statuses, in the order they arrived. */
  readonly statuses: ReceivedStatus[] = [];
  /** Calls that broke the documented protocol (each was answered 4xx). */
  readonly violations: string[] = [];
  /** Every call's method, path and answer status, in order (accepted or not). */
  readonly calls: Array<{ method: string; path: string; status: number; at: number }> = [];
  private readonly canned: CannedAnswer[] = [];
  private readonly sockets = new Set<Socket>();
  private isDown = false;
  private server: Server;
  url = '';

  /** `tokens`: the tokens each forge accepts (any other is a 401). */
  constructor(private readonly tokens: { github: string[]; gitlab: string[] }) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      if (this.isDown) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  /** Every connection is dropped at once, new ones too, until up(). */
  down(): void {
    this.isDown = true;
    for (const socket of this.sockets) socket.destroy();
  }

  up(): void {
    this.isDown = false;
  }

  /** The next calls (one per answer given) get these answers instead of being accepted. */
  failNext(...answers: CannedAnswer[]): void {
    this.canned.push(...answers);
  }

  statusesOf(sha: string, context?: string): ReceivedStatus[] {
    return this.statuses.filter((s) => s.sha === sha && (context === undefined || s.context === context));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').split('?')[0]!;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ method: req.method ?? '', path, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const violation = (status: number, message: string) => {
      this.violations.push(`${req.method} ${path}: ${message}`);
      answer(status, { message });
    };

    const github = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/(statuses\/([^/]+)|commits\/([^/]+)\/statuses)$/.exec(path);
    const gitlab = /^\/api\/v4\/projects\/([^/]+)\/(statuses\/([^/]+)|repository\/commits\/([^/]+)\/statuses)$/.exec(path);
    const forge = github ? 'github' : gitlab ? 'gitlab' : null;
    if (!forge) return violation(404, 'Not Found');

    // Authentication as each forge documents it.
    const auth = req.headers.authorization ?? '';
    const presented =
      forge === 'github'
        ? /^(?:Bearer|token) (\S+)$/.exec(auth)?.[1]
        : typeof req.headers['private-token'] === 'string'
          ? req.headers['private-token']
          : /^Bearer (\S+)$/.exec(auth)?.[1];
    const token = presented !== undefined && this.tokens[forge].includes(presented) ? presented : null;
    if (token === null) {
      this.calls.push({ method: req.method ?? '', path, status: 401, at: Date.now() });
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: forge === 'github' ? 'Bad credentials' : '401 Unauthorized' }));
      return;
    }

    const canned = this.canned.shift();
    if (canned) return answer(canned.status, canned.body ?? { message: `stand-in answer ${canned.status}` }, canned.headers);

    const repository = forge === 'github' ? `${decodeURIComponent(github![1]!)}/${decodeURIComponent(github![2]!)}` : decodeURIComponent(gitlab![1]!);
    const sha = forge === 'github' ? (github![4] ?? github![5])! : (gitlab![3] ?? gitlab![4])!;
    if (!SHA.test(sha)) return violation(422, `not a commit sha: ${sha}`);
    const listing = forge === 'github' ? github![5] !== undefined : gitlab![4] !== undefined;
    if (listing) {
      if (req.method !== 'GET') return violation(405, 'Method Not Allowed');
      return answer(
        200,
        this.statuses
          .filter((s) => s.forge === forge && s.sha === sha && s.repository === repository)
          .reverse()
          .map((s) => ({ state: s.state, target_url: s.target_url, description: s.description, [forge === 'github' ? 'context' : 'name']: s.context })),
      );
    }
    if (req.method !== 'POST') return violation(405, 'Method Not Allowed');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return violation(415, 'the body must be JSON');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return violation(400, 'Problems parsing JSON');
    }
    const contextField = forge === 'github' ? 'context' : 'name';
    const allowed = new Set(['state', 'target_url', 'description', contextField, ...(forge === 'gitlab' ? ['ref', 'pipeline_id', 'coverage'] : [])]);
    const unknown = Object.keys(body).filter((k) => !allowed.has(k));
    if (unknown.length > 0) return violation(422, `unknown fields: ${unknown.join(', ')}`);
    const state = body.state;
    if (typeof state !== 'string' || !(forge === 'github' ? GITHUB_STATES : GITLAB_STATES).has(state)) return violation(422, `invalid state: ${String(state)}`);
    for (const field of ['target_url', 'description', contextField])
      if (body[field] !== undefined && typeof body[field] !== 'string') return violation(422, `${field} must be a string`);
    if (typeof body.target_url === 'string' && !/^https?:\/\//.test(body.target_url)) return violation(422, 'target_url must be an http(s) URL');
    if (typeof body.description === 'string' && forge === 'github' && body.description.length > 140)
      return violation(422, 'description is too long (maximum is 140 characters)');
    this.statuses.push({
      forge,
      repository,
      sha,
      state,
      target_url: (body.target_url as string | undefined) ?? null,
      description: (body.description as string | undefined) ?? null,
      context: (body[contextField] as string | undefined) ?? 'default',
      token,
      at: Date.now(),
    });
    return answer(201, { id: this.statuses.length, state, context: body[contextField] ?? 'default' });
  }
}

export async function startFakeForge(tokens: { github: string[]; gitlab: string[] }): Promise<FakeForge> {
  return new FakeForge(tokens).start();
}
