/**
 * Quotes a value for sh (paths and names inside helper scripts, GIT_SSH_COMMAND, core.sshCommand).
 * Plain words stay as they are, so the commands remain readable in logs and configs.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./=:@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
