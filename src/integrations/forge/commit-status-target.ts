/**
 * Where a commit status for a repository goes: the forge's API base URL and the repository's name
 * in that API. GitHub: `owner/repo` under ANSFLOW_GITHUB_API_URL, else https://api.github.com for
 * github.com and `https://<host>/api/v3` for a GitHub Enterprise host. GitLab: the project's full
 * path under ANSFLOW_GITLAB_API_URL, else the repository's host + `/api/v4` (http only when the
 * repository URL itself is http, so a self-hosted GitLab on plain http keeps working).
 */
import type { Forge } from '../../domain/commit-status.js';

export interface ForgeApiSettings {
  githubApiUrl: string | null;
  gitlabApiUrl: string | null;
}

export interface CommitStatusTarget {
  apiUrl: string;
  /** GitHub `owner/repo`; GitLab `group/sub/project`. */
  repository: string;
}

const SCP_LIKE = /^(?:[A-Za-z0-9._~-]+@)?(?<host>[A-Za-z0-9.-]+):(?<path>(?!\/\/)[^\s]+)$/;

interface ParsedRepository {
  /** `https://host[:port]` for http(s) URLs, `https://host` for ssh, git and scp-like ones. */
  origin: string;
  host: string;
  path: string;
}

function parseRepository(url: string): ParsedRepository | null {
  const trimmed = url.trim();
  let host: string;
  let origin: string;
  let path: string;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(trimmed)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      return null;
    }
    host = parsed.hostname.toLowerCase();
    const web = parsed.protocol === 'http:' || parsed.protocol === 'https:';
    origin = web ? `${parsed.protocol}//${parsed.host.toLowerCase()}` : `https://${host}`;
    try {
      path = decodeURIComponent(parsed.pathname);
    } catch {
      return null;
    }
  } else {
    const scp = SCP_LIKE.exec(trimmed);
    if (!scp?.groups) return null;
    host = scp.groups.host!.toLowerCase();
    origin = `https://${host}`;
    path = scp.groups.path!;
  }
  path = path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/^\/+/, '');
  if (!host || !path || path.split('/').some((part) => part === '' || part === '.' || part === '..')) return null;
  return { origin, host, path };
}

/** The target, or why there is none (the message is shown on the run page). */
export function commitStatusTarget(forge: Forge, repositoryUrl: string | null, settings: ForgeApiSettings): CommitStatusTarget | { problem: string } {
  if (repositoryUrl === null) return { problem: 'the pipeline has no repository URL' };
  const parsed = parseRepository(repositoryUrl);
  if (!parsed) return { problem: 'the repository URL does not name a forge repository' };
  if (forge === 'github') {
    const parts = parsed.path.split('/');
    if (parts.length !== 2) return { problem: `"${parsed.path}" is not a GitHub owner/repository` };
    const apiUrl =
      settings.githubApiUrl ?? (parsed.host === 'github.com' || parsed.host === 'www.github.com' ? 'https://api.github.com' : `${parsed.origin}/api/v3`);
    return { apiUrl: apiUrl.replace(/\/+$/, ''), repository: parsed.path };
  }
  const apiUrl = settings.gitlabApiUrl ?? `${parsed.origin}/api/v4`;
  return { apiUrl: apiUrl.replace(/\/+$/, ''), repository: parsed.path };
}
