/**
 * A real OpenID Connect provider for the single sign-on tests: `oidc-provider` (panva) on a
 * loopback port, with its development login form (any password; the login names the account),
 * consent given in advance (a first-party client), PKCE required, and claims from ACCOUNTS.
 *
 * In front of it, on the issuer's port, a small pass-through proxy lets a test play the network
 * attacker or the broken provider: `hang` holds every request without an answer; `rewriteIdToken`
 * replaces the ID token in token responses (e.g. with one made for another client, or replayed
 * from an earlier sign-in), and every ID token the provider issued is kept in `idTokens`. The
 * provider signs with a key made here, so `signIdToken` can make tokens the relying party cannot
 * tell from the provider's by signature alone.
 *
 * The provider is made once AnsFlow's callback URL is known (`register`): its port is picked first,
 * so AnsFlow can be configured with the issuer before either starts.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'ansflow-test';
export const CLIENT_SECRET = 'ansflow-test-secret-0123456789';
export const OTHER_CLIENT_ID = 'another-app';

/** Accounts at the provider, by login. `mallory` calls herself `admin` there. */
export const ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { preferred_username: 'alice', email: 'alice@example.com', given_name: 'Alice', family_name: 'Ops', groups: ['ci-maintainers', 'staff'] },
  bob: { preferred_username: 'bob', email: 'bob@example.com', groups: ['staff'] },
  mallory: { preferred_username: 'admin', email: 'admin@evil.example', groups: ['ci-maintainers'] },
  carol: { preferred_username: 'carol', email: 'carol@example.com', groups: [] },
};

export interface TestProvider {
  issuer: string;
  /** Environment for AnsFlow (startApi's env). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Makes the provider with AnsFlow's callback URL registered for both test clients. */
  register(redirectUri: string): Promise<void>;
  /** Change what a sign-in's groups are (the next sign-in sees it). */
  setGroups(login: string, groups: string[]): void;
  hooks: { hang: boolean; rewriteIdToken: ((original: string) => string) | null };
  idTokens: string[];
  signIdToken(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

export async function startTestProvider(): Promise<TestProvider> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const accounts = structuredClone(ACCOUNTS);
  const hooks: TestProvider['hooks'] = { hang: false, rewriteIdToken: null };
  const idTokens: string[] = [];
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let inner: Server | null = null;
  let innerPort = 0;

  const front = createServer((req, res) => {
    if (hooks.hang || inner === null) {
      // Accept and never answer: what a provider that hangs looks like to its clients.
      held.add(res);
      return;
    }
    forward(req, res);
  });
  front.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

  function forward(req: IncomingMessage, res: ServerResponse) {
    const upstream = httpRequest({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const isToken = req.method === 'POST' && (req.url ?? '').startsWith('/token');
      if (!isToken) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        let body = Buffer.concat(chunks).toString('utf8');
        try {
          const json = JSON.parse(body) as { id_token?: string };
          if (json.id_token) {
            idTokens.push(json.id_token);
            if (hooks.rewriteIdToken) json.id_token = hooks.rewriteIdToken(json.id_token);
            body = JSON.stringify(json);
          }
        } catch {
          // not JSON: passed on as it is
        }
        const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
        res.writeHead(answer.statusCode ?? 502, headers);
        res.end(body);
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  return {
    issuer,
    hooks,
    idTokens,
    env: (extra = {}) => ({
      ANSFLOW_OIDC_ISSUER: issuer,
      ANSFLOW_OIDC_CLIENT_ID: CLIENT_ID,
      ANSFLOW_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      ANSFLOW_OIDC_NAME: 'Test IdP',
      ANSFLOW_OIDC_SCOPES: 'openid profile email groups',
      ANSFLOW_OIDC_TIMEOUT_SECONDS: '2',
      ...extra,
    }),
    setGroups(login, groups) {
      accounts[login] = { ...accounts[login], groups };
    },
    async register(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [CLIENT_ID, OTHER_CLIENT_ID].map((id) => ({
          client_id: id,
          client_secret: id === CLIENT_ID ? CLIENT_SECRET : 'another-app-secret-0123456789',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        })),
        jwks: { keys: [jwk as never] },
        cookies: { keys: ['test-provider-cookie-key-0123456789'] },
        pkce: { methods: ['S256'], required: () => true },
        scopes: ['openid', 'profile', 'email', 'groups'],
        claims: { openid: ['sub'], profile: ['preferred_username', 'given_name', 'family_name'], email: ['email'], groups: ['groups'] },
        findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, ...(accounts[id] ?? {}) }) }),
        // A first-party client: consent is given in advance, so the sign-in is the login form only.
        loadExistingGrant: async (ctx) => {
          const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
          if (existing) return ctx.oidc.provider.Grant.find(existing);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
          grant.addOIDCScope(String(ctx.oidc.params!.scope ?? 'openid'));
          await grant.save();
          return grant;
        },
        features: { devInteractions: { enabled: true } },
      });
      // Quiet: the provider logs every refused request; the tests read the answers instead.
      provider.on('server_error', () => undefined);
      inner = createServer(provider.callback());
      await new Promise<void>((resolve) => inner!.listen(0, '127.0.0.1', resolve));
      innerPort = (inner.address() as AddressInfo).port;
    },
    signIdToken(claims) {
      const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
      const payload = b64url(JSON.stringify(claims));
      const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
      return `${header}.${payload}.${b64url(signature)}`;
    },
    async close() {
      for (const res of held) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      if (inner) {
        inner.closeAllConnections();
        await new Promise<void>((resolve) => inner!.close(() => resolve()));
      }
    },
  };
}

/** The claims of a JWT (no verification: the test reads what the provider issued). */
export const jwtClaims = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

/** A browser at the provider, over plain HTTP: its own cookie jar, redirects followed by hand. */
export class ProviderBrowser {
  private cookies = new Map<string, string>();

  constructor(private readonly issuer: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      this.cookies.set(name!.trim(), value.join('='));
    }
  }

  /**
   * Signs in as `login` from the authorization URL and returns the URL the provider sends the
   * browser back to (AnsFlow's callback with code, state and iss), without following it.
   */
  async signIn(authorizationUrl: string, login: string): Promise<URL> {
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== this.issuer) return url;
      const response = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookieHeader() } });
      this.keep(response);
      if (response.status >= 300 && response.status < 400) {
        url = new URL(response.headers.get('location')!, url);
        continue;
      }
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (response.status !== 200 || !action || !html.includes('name="login"'))
        throw new Error(`unexpected page at the provider (${response.status}): ${html.slice(0, 500)}`);
      const posted = await fetch(new URL(action, url), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login, password: 'any-password' }).toString(),
      });
      this.keep(posted);
      if (posted.status < 300 || posted.status >= 400) throw new Error(`the provider's login form answered ${posted.status}: ${await posted.text()}`);
      url = new URL(posted.headers.get('location')!, url);
    }
    throw new Error('too many redirects at the provider');
  }
}
