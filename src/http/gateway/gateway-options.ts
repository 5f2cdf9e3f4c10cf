/**
 * Tunables of the gateway. Defaults suit production; tests and benchmarks lower or raise them.
 * The rate limits come from config.ts only (ANSFLOW_WEBHOOK_RATE_LIMIT, ANSFLOW_WS_HANDSHAKE_RATE_LIMIT,
 * with their defaults there): build options with gatewayOptionsFromConfig.
 */
export interface GatewayOptions {
  /** Webhook deliveries per source IP per minute. */
  webhookRateLimit: number;
  /** WebSocket handshakes per source IP per minute. */
  wsHandshakeRateLimit: number;
  /** Ping interval; a client that did not answer the previous ping is dropped. */
  wsPingMs: number;
  /** Above this many unsent bytes a client gets no log chunks (a resync hint instead). */
  wsSoftBufferBytes: number;
  /** Above this many unsent bytes only the latest status is kept for the client. */
  wsHardBufferBytes: number;
  jenkinsPollMs: number;
  jenkinsTimeoutMs: number;
  statusTimeoutMs: number;
  statusCacheMs: number;
}

/** The options that do not come from the configuration. */
export const DEFAULT_GATEWAY_OPTIONS: Omit<GatewayOptions, 'webhookRateLimit' | 'wsHandshakeRateLimit'> = {
  wsPingMs: 30_000,
  wsSoftBufferBytes: 1024 * 1024,
  wsHardBufferBytes: 4 * 1024 * 1024,
  jenkinsPollMs: 2000,
  jenkinsTimeoutMs: 10_000,
  statusTimeoutMs: 1000,
  statusCacheMs: 1000,
};

/** The gateway's settings from the validated configuration (rate limits); the rest are defaults. */
export function gatewayOptionsFromConfig(config: { webhookRateLimit: number; wsHandshakeRateLimit: number }): GatewayOptions {
  return { ...DEFAULT_GATEWAY_OPTIONS, webhookRateLimit: config.webhookRateLimit, wsHandshakeRateLimit: config.wsHandshakeRateLimit };
}
