/**
 * AnsFlow as an OpenID Connect relying party, through `openid-client` (panva): discovery, the
 * authorization URL with PKCE (S256), state and nonce, and the code exchange, whose ID token the
 * library validates (signature by the provider's published keys, `iss`, `aud` = our client id,
 * `exp`, and the nonce we expect). Every request to the provider is bounded by the configured
 * timeout, and every failure becomes an `SsoFailure` with a reason a person can act on.
 */
import * as oidc from 'openid-client';
import type { OidcConfig } from '../../../sso-config.js';
import { secureOrLoopback } from '../../../sso-config.js';

/** Why a sign-in failed: `reason` is a code for the login page, `message` says it in words. */
export class SsoFailure extends Error {
  constructor(
    readonly reason: 'provider_unreachable' | 'provider_timeout' | 'provider_error' | 'invalid_response' | 'state_invalid' | 'denied' | 'account',
    message: string,
  ) {
    super(message);
    this.name = 'SsoFailure';
  }
}

/** Who the provider says signed in: the ID token's claims, completed from userinfo when needed. */
export interface SsoIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

export class OidcClient {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(private readonly config: OidcConfig) {}

  get name(): string {
    return this.config.name;
  }

  /** Discovery once; a failure is not remembered, so the next sign-in tries again. */
  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(
        new URL(this.config.issuer),
        this.config.clientId,
        { client_secret: this.config.clientSecret },
        oidc.ClientSecretBasic(this.config.clientSecret),
        {
          timeout: this.config.timeoutSeconds,
          // http:// only for a provider on a loopback address (config refuses any other).
          execute: secureOrLoopback(this.config.issuer) && this.config.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
        },
      )
      .catch((error: unknown) => {
        this.configuration = null;
        throw this.failure(error, 'discovery');
      });
    return this.configuration;
  }

  /** A new sign-in: where to send the browser, and the secrets to keep until it comes back. */
  async begin(redirectUri: string): Promise<{ url: string; state: string; nonce: string; codeVerifier: string }> {
    const configuration = await this.discover();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /**
   * The browser came back to `redirectUri` with `query`: exchange the code (with the PKCE
   * verifier) and validate the ID token (with the nonce this sign-in sent).
   */
  async finish(redirectUri: string, query: URLSearchParams, expected: { state: string; nonce: string; codeVerifier: string }): Promise<SsoIdentity> {
    const configuration = await this.discover();
    const callback = new URL(redirectUri);
    callback.search = query.toString();
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.failure(error, 'token');
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new SsoFailure('invalid_response', 'The provider sent no ID token');
    const claims: Record<string, unknown> = { ...idClaims };
    // Many providers put profile and group claims only at the userinfo endpoint.
    const wanted = [this.config.groupsClaim, 'preferred_username', 'email'];
    if (wanted.some((c) => claims[c] === undefined) && configuration.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        for (const [k, v] of Object.entries(info)) if (claims[k] === undefined) claims[k] = v;
      } catch (error) {
        throw this.failure(error, 'userinfo');
      }
    }
    return { issuer: idClaims.iss, subject: idClaims.sub, claims };
  }

  /** Turns what the library or the network threw into a reason and a sentence. */
  private failure(error: unknown, step: 'discovery' | 'token' | 'userinfo'): SsoFailure {
    if (error instanceof SsoFailure) return error;
    const what = { discovery: 'its configuration', token: 'the sign-in', userinfo: 'the user information' }[step];
    if (error instanceof oidc.AuthorizationResponseError) {
      return new SsoFailure(error.error === 'access_denied' ? 'denied' : 'provider_error', `The provider refused the sign-in: ${error.error}`);
    }
    if (error instanceof oidc.ResponseBodyError) return new SsoFailure('provider_error', `The provider refused ${what}: ${error.error}`);
    const code = (error as { code?: string }).code;
    if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT')
      return new SsoFailure('provider_timeout', `The sign-in provider did not answer within ${this.config.timeoutSeconds} seconds (${what})`);
    if (error instanceof oidc.ClientError && typeof code === 'string' && code.startsWith('OAUTH_'))
      return new SsoFailure('invalid_response', `The provider's answer failed validation (${what}): ${detailOf(error)}`);
    return new SsoFailure('provider_unreachable', `The sign-in provider could not be reached (${what})${causeText(error)}`);
  }
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string; cause?: { code?: string } } }).cause;
  const detail = cause?.cause?.code ?? cause?.code ?? cause?.message;
  return typeof detail === 'string' && detail !== '' ? `: ${detail}` : '';
}

/** The library's own sentence (`unexpected JWT "aud" (audience) claim value`) sits in the cause. */
function detailOf(error: Error): string {
  const cause = (error as { cause?: { message?: string } }).cause;
  return typeof cause?.message === 'string' && cause.message !== '' ? cause.message : error.message;
}
