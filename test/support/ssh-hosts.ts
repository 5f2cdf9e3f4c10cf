/**
 * Real Ansible targets for tests: several OpenSSH servers (Debian's sshd, ssh-git-server.ts) on
 * loopback ports, each with its own host key and the test's authorized key, used as distinct
 * inventory hosts (`ansible_host=127.0.0.1 ansible_port=<port>`), and one more host whose port
 * nothing listens on (it must come out `unreachable`). Targets are this machine, so tasks write
 * under a per-host folder the test chooses.
 */
import { createServer } from 'node:net';
import { startSshGitServer, type SshGitServer } from './ssh-git-server.js';

export interface SshHosts {
  hosts: Array<{ name: string; port: number }>;
  /** A host name whose port is closed. */
  closed: { name: string; port: number };
  /** The user every host logs in (the test's own). */
  user: string;
  /** known_hosts lines of every listening host. */
  knownHosts: string;
  /** An INI inventory: the hosts in group `web` (the first) and `db` (the rest), the closed one in `web`. */
  inventory(vars?: string): string;
  stop(): Promise<void>;
}

export async function startSshHosts(count: number, authorizedKey: string, names = ['web1', 'db1', 'db2', 'db3', 'db4']): Promise<SshHosts> {
  const servers: SshGitServer[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startSshGitServer({ authorizedKeys: [authorizedKey] }));
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  const hosts = servers.map((s, i) => ({ name: names[i] ?? `host${i + 1}`, port: s.port }));
  const closed = { name: 'ghost', port: await closedPort() };
  const line = (h: { name: string; port: number }) => `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port}`;
  return {
    hosts,
    closed,
    user: servers[0]!.user,
    knownHosts: servers.map((s) => s.knownHostsLine).join('\n') + '\n',
    inventory: (vars = '') =>
      [
        '[web]',
        line(hosts[0]!),
        line(closed),
        '',
        '[db]',
        ...hosts.slice(1).map(line),
        '',
        '[all:vars]',
        'ansible_python_interpreter=/usr/bin/python3',
        vars,
        '',
      ].join('\n'),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** A loopback port nothing listens on (taken and released at once). */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
