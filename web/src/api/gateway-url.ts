/**
 * Where the gateway (WebSocket, system status) lives. `/api/config/` names it; a loopback host there
 * means "this machine", which for a browser on another computer is the host it loaded the page from.
 * Pure TypeScript.
 */

export interface GatewayLocation {
  http: string;
  ws: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '']);
export const DEFAULT_GATEWAY_PORT = '8001';

export function resolveGateway(gatewayUrl: string | null | undefined, page: { protocol: string; hostname: string }): GatewayLocation {
  const secure = page.protocol === 'https:';
  let host = page.hostname;
  let port = DEFAULT_GATEWAY_PORT;
  let basePath = '';
  if (gatewayUrl) {
    try {
      const url = new URL(gatewayUrl);
      port = url.port || (url.protocol === 'https:' ? '443' : '80');
      if (!LOOPBACK.has(url.hostname)) host = url.hostname;
      basePath = url.pathname.replace(/\/+$/, '');
    } catch {
      // malformed: keep the defaults
    }
  }
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const authority = `${hostPart}:${port}`;
  return {
    http: `${secure ? 'https' : 'http'}://${authority}${basePath}`,
    ws: `${secure ? 'wss' : 'ws'}://${authority}${basePath}`,
  };
}
