/** What one attempt to deliver a notification came to, as the outbox records it. */
export interface SendResult {
  /** `retry`: worth another attempt later (a 5xx, 408, 429, no answer in time, connection refused); `failed`: never will be (a 4xx, a refusal). */
  kind: 'delivered' | 'retry' | 'failed';
  /** The HTTP status, or the SMTP reply code; null when there was no answer. */
  statusCode: number | null;
  /** The receiver's answer (the start of its body, the SMTP reply) or why there was none. */
  answer: string;
}

/** Answers are kept this long in the delivery log. */
export const MAX_ANSWER = 500;

export const clip = (text: string) => (text.length > MAX_ANSWER ? `${text.slice(0, MAX_ANSWER)}…` : text);
