/** Starts the HTTP servers of a process according to its role. */
import type { AppContext } from './context.js';
import { VERSION } from './context.js';
import { buildApiServer } from '../http/api/api-server.js';

export type Role = 'api' | 'gateway' | 'all';

export interface RunningServers {
  apiUrl: string | null;
  gatewayUrl: string | null;
  close(): Promise<void>;
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function startServers(ctx: AppContext, role: Role): Promise<RunningServers> {
  const { config, logger } = ctx;
  const closers: Array<() => Promise<void>> = [];
  let apiUrl: string | null = null;
  const gatewayUrl: string | null = `http://${urlHost(config.host)}:${config.gatewayPort}`;
  if (role === 'api' || role === 'all') {
    const api = await buildApiServer(
      { logger, bodyLimit: 2 * 1024 * 1024, trustProxy: config.trustProxy },
      { auth: ctx.auth, users: ctx.users, pipelines: ctx.pipelines, runs: ctx.runs, version: VERSION, gatewayUrl },
    );
    const address = await api.listen({ host: config.host, port: config.apiPort });
    apiUrl = address;
    closers.push(() => api.close());
  }
  return {
    apiUrl,
    gatewayUrl,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}
