/**
 * Sends a notification email through the channel's SMTP server (nodemailer), within a bounded
 * time: connecting, the greeting, every reply and the whole exchange each count against
 * `timeoutMs`, so a server that accepts the connection and never answers is a recorded failure,
 * not a stuck sender. A 5xx reply and a refused login are final; a 4xx reply, a timeout and a
 * refused connection are worth another attempt.
 */
import { createTransport } from 'nodemailer';
import type { SmtpSecurity } from '../../domain/notifications.js';
import { resolvesToMetadata } from './post-json.js';
import { clip, type SendResult } from './send-result.js';

export interface EmailRequest {
  host: string;
  port: number;
  security: SmtpSecurity;
  username: string | null;
  password: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  timeoutMs: number;
}

export async function sendEmail(request: EmailRequest): Promise<SendResult> {
  const refused = await resolvesToMetadata(request.host, request.timeoutMs);
  if (refused) return { kind: 'failed', statusCode: null, answer: refused };
  const transport = createTransport({
    host: request.host,
    port: request.port,
    secure: request.security === 'tls',
    requireTLS: request.security === 'starttls',
    ignoreTLS: request.security === 'none',
    ...(request.username ? { auth: { user: request.username, pass: request.password ?? '' } } : {}),
    connectionTimeout: request.timeoutMs,
    greetingTimeout: request.timeoutMs,
    socketTimeout: request.timeoutMs,
    dnsTimeout: request.timeoutMs,
    // One message per connection: nothing is kept open between deliveries.
    pool: false,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      transport.sendMail({ from: request.from, to: request.to, subject: request.subject, text: request.text }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${request.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })), request.timeoutMs);
      }),
    ]);
    const response = String((info as { response?: unknown }).response ?? '');
    return { kind: 'delivered', statusCode: replyCode(response), answer: clip(response || 'accepted') };
  } catch (error) {
    const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
    const code = typeof e.responseCode === 'number' ? e.responseCode : null;
    const said = e.response ?? e.message ?? String(error);
    const answer = clip(e.code === 'ETIMEDOUT' && !/within/.test(said) ? `no answer within ${request.timeoutMs / 1000}s: ${said}` : said);
    if (e.code === 'EAUTH' || (code !== null && code >= 500)) return { kind: 'failed', statusCode: code, answer };
    return { kind: 'retry', statusCode: code, answer };
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}

const replyCode = (response: string): number | null => {
  const match = /^(\d{3})\b/.exec(response);
  return match ? Number(match[1]) : null;
};
