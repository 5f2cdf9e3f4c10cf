/** The gateway's location, from `/api/config/` (fetched once), falling back to port 8001 on this host. */
import { getConfig } from './endpoints';
import { resolveGateway, type GatewayLocation } from './gateway-url';

let cached: Promise<{ gateway: GatewayLocation; version: string | null }> | null = null;

/** The gateway location (and server version), fetched once. */
export function loadGateway(): Promise<{ gateway: GatewayLocation; version: string | null }> {
  cached ??= getConfig()
    .then((config) => ({ gateway: resolveGateway(config.gateway_url, window.location), version: config.version ?? null }))
    .catch(() => {
      cached = null;
      return { gateway: resolveGateway(null, window.location), version: null };
    });
  return cached;
}
