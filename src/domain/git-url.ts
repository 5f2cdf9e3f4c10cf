/**
 * Which repository URLs the platform will hand to git. git understands transports that run
 * commands (`ext::`), options smuggled as URLs (`--upload-pack=…`, `ssh://-oProxyCommand=…`) and
 * local paths; all of these are refused unless the operator allows local repositories, and even
 * then only `file://` and absolute paths are accepted, never `ext::` or option-like strings.
 */
export interface GitUrlPolicy {
  allowLocal: boolean;
}

const SCP_LIKE = /^(?<user>[A-Za-z0-9._~-]+@)?(?<host>[A-Za-z0-9.-]+):(?<path>(?!\/\/)[^\s]+)$/;

export function gitUrlProblem(url: string, policy: GitUrlPolicy): string | null {
  if (typeof url !== 'string' || url.length === 0) return 'Repository URL must not be empty';
  if (url.length > 2048) return 'Repository URL must be at most 2048 characters';
  // Control characters (CR/LF/NUL…) would let a URL inject headers or config lines.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(url)) return 'Repository URL must not contain whitespace or control characters';
  if (url.startsWith('-')) return 'Repository URL must not start with "-"';
  if (/^ext::/i.test(url) || url.includes('::')) return 'Repository URL uses a transport that is not allowed';

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme) {
    if (scheme === 'file') return policy.allowLocal ? null : 'Local repositories (file://) are not allowed on this server';
    if (!['https', 'http', 'ssh', 'git'].includes(scheme)) return `Repository URL scheme "${scheme}" is not allowed`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'Repository URL is not a valid URL';
    }
    if (!parsed.hostname) return 'Repository URL must name a host';
    if (parsed.hostname.startsWith('-') || decodeURIComponent(url.slice(scheme.length + 3)).startsWith('-'))
      return 'Repository URL host must not start with "-"';
    if (parsed.pathname === '' || parsed.pathname === '/') return 'Repository URL must name a repository path';
    return null;
  }
  const scp = SCP_LIKE.exec(url);
  if (scp?.groups) {
    if (scp.groups.host?.startsWith('-') || scp.groups.path?.startsWith('-')) return 'Repository URL must not contain option-like parts';
    return null;
  }
  if (url.startsWith('/')) return policy.allowLocal ? null : 'Local repository paths are not allowed on this server';
  return 'Repository URL must be https://, http://, ssh://, git:// or user@host:path';
}

/** Removes credentials from a URL for display in logs and API responses. */
export function redactGitUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^@/]+@/, '$1***@');
}

/**
 * A comparable identity of a repository: host (lower-cased) and path without `.git` and slashes,
 * ignoring scheme, credentials and port. Used to match webhook deliveries to pipelines.
 */
export function repositoryKey(url: string): string | null {
  const trimmed = url.trim();
  let host: string;
  let path: string;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(trimmed);
  if (scheme) {
    try {
      const parsed = new URL(trimmed);
      host = parsed.hostname;
      path = decodeURIComponent(parsed.pathname);
    } catch {
      return null;
    }
  } else {
    const scp = SCP_LIKE.exec(trimmed);
    if (!scp?.groups) return null;
    host = scp.groups.host ?? '';
    path = scp.groups.path ?? '';
  }
  path = path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/^\/+/, '');
  if (!host || !path) return null;
  return `${host.toLowerCase()}/${path.toLowerCase()}`;
}

/** Git ref names as `git check-ref-format --branch` would accept them, minus anything option-like. */
export function branchNameProblem(branch: string): string | null {
  if (branch.length === 0) return 'Branch must not be empty';
  if (branch.length > 255) return 'Branch must be at most 255 characters';
  if (branch.startsWith('-')) return 'Branch must not start with "-"';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(branch)) return 'Branch contains characters git does not allow in ref names';
  if (branch.includes('..') || branch.includes('@{') || branch.includes('//')) return 'Branch is not a valid git ref name';
  if (branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.') || branch.endsWith('.lock')) return 'Branch is not a valid git ref name';
  if (branch.split('/').some((part) => part.startsWith('.'))) return 'Branch is not a valid git ref name';
  return null;
}

export const COMMIT_SHA_PATTERN = /^[0-9a-f]{7,64}$/;
