/** Notification channels and their delivery log (docs/delivery.md, Notifications). */
import { api, type Query } from './client';
import type { Page } from './types';

type Signal = { signal?: AbortSignal };

export const NOTIFICATION_EVENTS = ['run_failed', 'run_fixed', 'run_succeeded', 'approval_requested', 'deployment_finished'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export type ChannelKind = 'webhook' | 'slack' | 'email';
export type SmtpSecurity = 'starttls' | 'tls' | 'none';

export interface ChannelConfig {
  url?: string;
  smtp_host?: string;
  smtp_port?: number;
  smtp_security?: SmtpSecurity;
  smtp_username?: string;
  from?: string;
  to?: string[];
}

export interface Channel {
  id: number;
  project_id: number;
  name: string;
  kind: ChannelKind;
  config: ChannelConfig;
  secret_set: boolean;
  events: NotificationEvent[];
  pipelines: number[] | null;
  enabled: boolean;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}

export interface ChannelBody {
  name: string;
  project?: number;
  kind: ChannelKind;
  events: NotificationEvent[];
  pipelines: number[] | null;
  enabled: boolean;
  config: ChannelConfig;
  /** Absent: keep the stored one. */
  secret?: string;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  duration_ms: number;
  result: 'delivered' | 'retry' | 'failed';
  status_code: number | null;
  answer: string;
}

export interface NotificationDelivery {
  id: number;
  channel_id: number;
  run_id: number | null;
  event: NotificationEvent | 'test';
  outcome: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  last_status_code: number | null;
  attempt_log: DeliveryAttempt[];
  payload: { summary?: string } & Record<string, unknown>;
  created_at: string;
  delivered_at: string | null;
}

export const listChannels = (query: Query, o: Signal = {}) => api<Page<Channel>>('/api/notification-channels/', { ...o, query });
export const createChannel = (body: ChannelBody) => api<Channel>('/api/notification-channels/', { method: 'POST', body });
export const updateChannel = (id: number, body: ChannelBody) => api<Channel>(`/api/notification-channels/${id}/`, { method: 'PUT', body });
export const deleteChannel = (id: number) => api<void>(`/api/notification-channels/${id}/`, { method: 'DELETE' });
export const testChannel = (id: number) => api<NotificationDelivery>(`/api/notification-channels/${id}/test/`, { method: 'POST' });
export const listChannelDeliveries = (id: number, query: Query, o: Signal = {}) =>
  api<Page<NotificationDelivery>>(`/api/notification-channels/${id}/deliveries/`, { ...o, query });
