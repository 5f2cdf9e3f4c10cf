/**
 * Which repository URLs the platform will hand to git. git understands transports that run
 * commands (`ext::`), options smuggled as URLs (`--upload-pack=…`, `ssh://-oProxyCommand=…`) and
 * local paths; all of these are refused unless the operator allows local repositories, and even
 * then only `file://` and absolute paths are accepted, never `ext::` or option-like strings.
 *
 * Hosts must be plain DNS names or IP addresses (no shell metacharacters, no Windows drive read as
 * an scp host), never a cloud metadata address unless the operator allows it, and no part of the
 * URL may carry a control character, raw or percent-encoded.
 */
import { isMetadataHost } from './metadata-address.js';

export interface GitUrlPolicy {
  allowLocal: boolean;
  /** ANSFLOW_ALLOW_METADATA_ADDRESSES: let URLs name cloud metadata and link-local addresses (default false). */
  allowMetadataAddresses?: boolean;
}

const SCP_LIKE = /^(?<user>[A-Za-z0-9._~-]+@)?(?<host>[A-Za-z0-9.-]+):(?<path>(?!\/\/)[^\s]+)$/;

/** A DNS name (labels of letters, digits, `-` and `_`, an optional trailing dot), IPv4, or `[IPv6]`. */
const HOST_NAME = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.?$/;
const IPV6_HOST = /^\[[0-9A-Fa-f:.]+\]$/;
/** What a user name in an ssh:// or git:// URL may hold. */
const USER_NAME = /^[A-Za-z0-9._~-]*$/;

export function gitUrlProblem(url: string, policy: GitUrlPolicy): string | null {
  if (typeof url !== 'string' || url.length === 0) return 'Repository URL must not be empty';
  if (url.length > 2048) return 'Repository URL must be at most 2048 characters';
  // Control characters (CR/LF/NUL…) would let a URL inject headers or config lines, also once decoded.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(url)) return 'Repository URL must not contain whitespace or control characters';
  if (/%(?:[01][0-9A-Fa-f]|7[Ff])/.test(url)) return 'Repository URL must not contain encoded control characters (%00-%1F, %7F)';
  if (url.startsWith('-')) return 'Repository URL must not start with "-"';
  // `<transport>::<address>` runs a remote helper; `::` inside an IPv6 literal (`[::1]`) is an address.
  if (/^ext::/i.test(url) || url.replace(/\[[0-9A-Fa-f:.]*\]/g, '').includes('::')) return 'Repository URL uses a transport that is not allowed';
  if (url.includes('\\')) return 'Repository URL must not contain backslashes (Windows paths are not repositories)';

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
    if (parsed.hostname.startsWith('-') || safeDecode(url.slice(scheme.length + 3)).startsWith('-')) return 'Repository URL host must not start with "-"';
    const hostProblem = gitHostProblem(parsed.hostname, policy);
    if (hostProblem) return hostProblem;
    // ssh gets the user name on its command line; http(s) user names only ever reach git's askpass helper.
    if (!['http', 'https'].includes(scheme) && !USER_NAME.test(parsed.username)) return 'Repository URL user name contains characters that are not allowed';
    if (parsed.pathname === '' || parsed.pathname === '/') return 'Repository URL must name a repository path';
    return null;
  }
  const scp = SCP_LIKE.exec(url);
  if (scp?.groups) {
    const host = scp.groups.host ?? '';
    // `C:/Windows`, `c:foo`: a drive letter, which git on Linux would take for an ssh host named "c".
    if (/^[A-Za-z]$/.test(host)) return 'Repository URL looks like a Windows drive path, not a repository';
    if (host.startsWith('-') || scp.groups.path?.startsWith('-')) return 'Repository URL must not contain option-like parts';
    return gitHostProblem(host, policy);
  }
  if (url.startsWith('/')) return policy.allowLocal ? null : 'Local repository paths are not allowed on this server';
  return 'Repository URL must be https://, http://, ssh://, git:// or user@host:path';
}

/** Why a repository host is refused: not a plain name or address, or a cloud metadata address. */
export function gitHostProblem(host: string, policy: GitUrlPolicy): string | null {
  if (!HOST_NAME.test(host) && !IPV6_HOST.test(host)) return 'Repository URL host must be a DNS name or an IP address';
  if (!policy.allowMetadataAddresses && isMetadataHost(host))
    return 'Repository URL names a cloud metadata or link-local address, which this server does not allow';
  return null;
}

/**
 * Why a URL may not be SAVED: it carries a password or token (`https://user:pass@host/…`,
 * `https://token@host/…`). A plain user name of ssh (`ssh://git@host/…`, `git@host:path`) is fine.
 * The engine still runs such URLs from pipelines saved before this rule (see git-credentials.ts).
 */
export function gitUrlCredentialProblem(url: string): string | null {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (!scheme) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const carriesSecret = parsed.password !== '' || (parsed.username !== '' && (scheme === 'http' || scheme === 'https'));
  return carriesSecret ? GIT_URL_CREDENTIAL_MESSAGE : null;
}

export const GIT_URL_CREDENTIAL_MESSAGE =
  'Repository URL must not contain a password or token; store it as a credential and name it in the step (credential: <name>)';

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A URL fit for logs and API responses. The whole userinfo of http(s) URLs is hidden (a lone user
 * name there is usually a token: `https://<token>@host`); of ssh and git URLs only the password
 * (`ssh://git@host/…` keeps its user name, which is not a secret).
 */
export function redactGitUrl(url: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)@/.exec(url);
  if (!match) return url;
  const [whole, scheme, userinfo] = match as unknown as [string, string, string];
  const colon = userinfo.indexOf(':');
  const shown = /^https?$/i.test(scheme) ? '***' : colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***`;
  return `${scheme}://${shown}@${url.slice(whole.length)}`;
}

/** Steps as shown to clients: each `config.repository` passed through redactGitUrl. */
export function redactStepRepositories<S extends { config: Record<string, unknown> }>(steps: readonly S[]): S[] {
  return steps.map((step) =>
    typeof step.config?.repository === 'string' ? { ...step, config: { ...step.config, repository: redactGitUrl(step.config.repository) } } : step,
  );
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

/** The host path of a local repository (`file://…` or an absolute path), or null for a remote one. */
export function localRepositoryPath(url: string): string | null {
  const trimmed = url.trim();
  if (trimmed.startsWith('/')) return trimmed;
  if (!/^file:\/\//i.test(trimmed)) return null;
  try {
    return decodeURIComponent(new URL(trimmed).pathname) || null;
  } catch {
    return null;
  }
}
