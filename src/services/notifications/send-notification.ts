/**
 * One attempt to deliver a notification through its channel: a webhook gets the payload as JSON,
 * signed (`X-AnsFlow-Signature-256: sha256=<HMAC-SHA256 of the body>` with the channel's secret);
 * Slack its incoming-webhook message; email a message through the channel's SMTP server.
 */
import { emailMessage, signBody, SIGNATURE_HEADER, slackMessage, type NotificationPayload } from '../../domain/notifications.js';
import type { NotificationChannel } from '../../store/notifications-repository.js';
import { postJson } from '../../integrations/notify/post-json.js';
import { sendEmail } from '../../integrations/notify/send-email.js';
import type { SendResult } from '../../integrations/notify/send-result.js';

export interface Delivery {
  id: number;
  payload: NotificationPayload;
}

export type SendNotification = (channel: NotificationChannel, secret: string | null, delivery: Delivery, timeoutMs: number) => Promise<SendResult>;

export const sendNotification: SendNotification = async (channel, secret, delivery, timeoutMs) => {
  switch (channel.kind) {
    case 'webhook': {
      const body = JSON.stringify({ delivery: delivery.id, ...delivery.payload });
      const headers: Record<string, string> = { 'X-AnsFlow-Event': delivery.payload.event, 'X-AnsFlow-Delivery': String(delivery.id) };
      if (secret) headers[SIGNATURE_HEADER] = signBody(body, secret);
      return postJson({ url: channel.config.url!, body, headers, timeoutMs });
    }
    case 'slack':
      if (!secret) return { kind: 'failed', statusCode: null, answer: 'the channel has no Slack webhook URL' };
      return postJson({ url: secret, body: JSON.stringify(slackMessage(delivery.payload)), headers: {}, timeoutMs });
    case 'email': {
      const c = channel.config;
      const message = emailMessage(delivery.payload);
      return sendEmail({
        host: c.smtp_host!,
        port: c.smtp_port ?? 587,
        security: c.smtp_security ?? 'starttls',
        username: c.smtp_username ?? null,
        password: secret,
        from: c.from!,
        to: c.to ?? [],
        subject: message.subject,
        text: message.text,
        timeoutMs,
      });
    }
  }
};
