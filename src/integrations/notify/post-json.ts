/**
 * POSTs a notification's JSON to a receiver (a webhook, a Slack incoming webhook) and says what
 * came of it, within a bounded time: the connection, the answer and its body all count against
 * `timeoutMs`. Redirects are not followed (a receiver could point one at an address the URL check
 * refused), and a name that resolves to a cloud metadata or link-local address is refused before
 * anything is sent.
 */
import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isMetadataHost } from '../../domain/metadata-address.js';
import { clip, type SendResult } from './send-result.js';

export interface PostJson {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/**
 * Kept-alive connections per receiver (a slow receiver's backlog costs no reconnects). node:http
 * rather than fetch: fetch cost ~4x the CPU per request here (~700 vs ~180 µs with the receiver in
 * the same process), most of a delivery's cost (bench/notifications-where.ts).
 */
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
/** Enough of an answer to keep (clip() keeps less); the rest is read and dropped. */
const MAX_READ = 64 * 1024;

export async function postJson(request: PostJson): Promise<SendResult> {
  const url = new URL(request.url);
  const refused = await resolvesToMetadata(url.hostname, request.timeoutMs);
  if (refused) return { kind: 'failed', statusCode: null, answer: refused };
  const signal = AbortSignal.timeout(request.timeoutMs);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(request.body);
  return new Promise<SendResult>((resolve) => {
    let status: number | null = null;
    // The first outcome counts: an abort after the answer ended changes nothing.
    let done = false;
    const finish = (result: SendResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    const req = send(
      url,
      {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'user-agent': 'AnsFlow-Notifications',
          ...request.headers,
        },
        signal,
      },
      (res) => {
        status = res.statusCode ?? 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_READ) text += chunk;
        });
        res.on('error', (error) => finish(failedRead(request, signal, status, error)));
        res.on('end', () => finish(answered(res.statusCode ?? 0, text, res.statusMessage ?? '', res.headers.location)));
      },
    );
    req.on('error', (error) => {
      if (status !== null) finish(failedRead(request, signal, status, error));
      else
        finish({
          kind: 'retry',
          statusCode: null,
          answer: signal.aborted ? `no answer within ${request.timeoutMs / 1000}s` : `could not connect: ${reason(error)}`,
        });
    });
    req.end(body);
  });
}

function failedRead(request: PostJson, signal: AbortSignal, status: number | null, error: unknown): SendResult {
  return { kind: 'retry', statusCode: status, answer: signal.aborted ? `the answer did not end within ${request.timeoutMs / 1000}s` : reason(error) };
}

function answered(status: number, text: string, statusText: string, location: string | undefined): SendResult {
  const answer = clip(text.trim() || statusText);
  if (status >= 200 && status < 300) return { kind: 'delivered', statusCode: status, answer };
  if (status >= 300 && status < 400) return { kind: 'failed', statusCode: status, answer: `redirects are not followed (to ${location ?? 'nowhere'})` };
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
  const e = error as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  return clip(e?.code ?? e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error));
};
