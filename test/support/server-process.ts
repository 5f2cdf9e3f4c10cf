/**
 * The real server as a child process (`ansflow serve` from source through tsx), for tests that
 * must kill it (kill -9, SIGTERM) or run the CLI against it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * How a test or benchmark starts the CLI: from source through tsx, or a build when
 * ANSFLOW_CLI_MAIN names one (`dist/cli/main.js` after `npm run build`: no compile at start, which
 * on a loaded 2-core machine can take longer than a start-up timeout for several processes at once).
 */
export const CLI = process.env.ANSFLOW_CLI_MAIN ? ['--enable-source-maps', process.env.ANSFLOW_CLI_MAIN] : ['--import', 'tsx', 'src/cli/main.ts'];

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const apiPort = env.ANSFLOW_API_PORT ?? String(await freePort());
  const gatewayPort = env.ANSFLOW_GATEWAY_PORT ?? String(await freePort());
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      ANSFLOW_LOG_LEVEL: 'warn',
      ANSFLOW_METRICS_LISTEN: '127.0.0.1:0',
      ...env,
      ANSFLOW_API_PORT: apiPort,
      ANSFLOW_GATEWAY_PORT: gatewayPort,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30000;
  while (!output.includes('AnsFlow is running')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      // Not left running: its piped output would keep the test process alive for ever.
      child.kill('SIGKILL');
      throw new Error(`server did not start within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, baseUrl: `http://127.0.0.1:${apiPort}`, output: () => output, exited };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}
