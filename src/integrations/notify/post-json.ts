/**
 * POSTs a notification's JSON to a receiver (a webhook, a Slack incoming webhook) and says what
 * came of it, within a bounded time: the connection, the answer and its body all count against
 * `timeoutMs`. Redirects are not followed (a receiver could point one at an address the URL check
 * refused), and a name that resolves to a cloud metadata or link-local address is refused before
 * anything is sent.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isMetadataHost } from '../../domain/metadata-address.js';
import { clip, type SendResult } from './send-result.js';

export interface PostJson {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export async function postJson(request: PostJson): Promise<SendResult> {
  const url = new URL(request.url);
  const refused = await resolvesToMetadata(url.hostname, request.timeoutMs);
  if (refused) return { kind: 'failed', statusCode: null, answer: refused };
  const signal = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'AnsFlow-Notifications', ...request.headers },
      body: request.body,
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    return {
      kind: 'retry',
      statusCode: null,
      answer: signal.aborted ? `no answer within ${request.timeoutMs / 1000}s` : `could not connect: ${reason(error)}`,
    };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return {
      kind: 'retry',
      statusCode: response.status,
      answer: signal.aborted ? `the answer did not end within ${request.timeoutMs / 1000}s` : reason(error),
    };
  }
  const status = response.status;
  const answer = clip(text.trim() || response.statusText);
  if (status >= 200 && status < 300) return { kind: 'delivered', statusCode: status, answer };
  if (status >= 300 && status < 400)
    return { kind: 'failed', statusCode: status, answer: `redirects are not followed (to ${response.headers.get('location') ?? 'nowhere'})` };
  if (status >= 500 || status === 408 || status === 429) return { kind: 'retry', statusCode: status, answer };
  return { kind: 'failed', statusCode: status, answer };
}

/** Why the host may not be sent to, or null. Names are resolved (every address they have) within the time bound. */
export async function resolvesToMetadata(hostname: string, timeoutMs: number): Promise<string | null> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isMetadataHost(hostname)) return `${hostname} is a cloud metadata or link-local address`;
  if (isIP(host)) return null;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs).unref()),
    ]);
  } catch {
    // Let the request itself fail with the resolver's reason (and be retried).
    return null;
  }
  const bad = addresses.find((a) => isMetadataHost(isIP(a.address) === 6 ? `[${a.address}]` : a.address));
  return bad ? `${hostname} resolves to ${bad.address}, a cloud metadata or link-local address` : null;
}

const reason = (error: unknown): string => {
  const e = error as { cause?: { code?: string; message?: string }; message?: string };
  return clip(e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error));
};
