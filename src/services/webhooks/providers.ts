/**
 * What differs between GitHub and GitLab deliveries: how they are authenticated, which headers
 * name the event and the delivery, and how the body is normalised. Everything else is shared.
 */
import { verifyGithubSignature } from '../../integrations/github/verify-signature.js';
import { normalizeGithubDelivery } from '../../integrations/github/normalize.js';
import { verifyGitlabToken } from '../../integrations/gitlab/verify-token.js';
import { normalizeGitlabDelivery } from '../../integrations/gitlab/normalize.js';
import type { NormalizeResult } from '../../integrations/trigger-event.js';
import type { VerifyResult } from '../../integrations/verify-result.js';
import type { Provider } from '../../store/deliveries-repository.js';

export type Headers = Record<string, string | string[] | undefined>;

export interface WebhookSecrets {
  githubSecret: string | null;
  gitlabToken: string | null;
}

export interface ProviderAdapter {
  verify(headers: Headers, body: Buffer, secrets: WebhookSecrets): VerifyResult;
  /** The event header, or undefined when absent or repeated. */
  event(headers: Headers): string | undefined;
  /** The provider's id of this delivery (the same on the provider's retries), if it sent one. */
  deliveryKey(headers: Headers): string | undefined;
  normalize(event: string | undefined, payload: unknown): NormalizeResult;
}

export const single = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

const github: ProviderAdapter = {
  verify: (headers, body, secrets) =>
    verifyGithubSignature({ secret: secrets.githubSecret ?? '', body, signature256: headers['x-hub-signature-256'], signature1: headers['x-hub-signature'] }),
  event: (headers) => single(headers['x-github-event']),
  deliveryKey: (headers) => single(headers['x-github-delivery']),
  normalize: normalizeGithubDelivery,
};

const gitlab: ProviderAdapter = {
  verify: (headers, _body, secrets) => verifyGitlabToken({ expected: secrets.gitlabToken ?? '', token: headers['x-gitlab-token'] }),
  event: (headers) => single(headers['x-gitlab-event']),
  // Idempotency-Key (GitLab 17.4+) stays the same across retries and manual resends; the event
  // UUID is the best older versions offer.
  deliveryKey: (headers) => single(headers['idempotency-key']) ?? single(headers['x-gitlab-event-uuid']),
  normalize: normalizeGitlabDelivery,
};

export function providerAdapter(provider: Provider): ProviderAdapter {
  switch (provider) {
    case 'github':
      return github;
    case 'gitlab':
      return gitlab;
    default: {
      const never: never = provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}
