/**
 * The per-host filter of an Ansible step's raw log: Ansible's own output (the default stdout
 * callback) narrowed to one host. Kept: the lines that name the host (`ok: [web1]`,
 * `fatal: [web1]: FAILED! => …`, `changed: [web1 -> localhost]`, its recap line), the lines that
 * follow such a line until the next result or header (a diff, a multi-line message), and the
 * PLAY / TASK / RUNNING HANDLER headers above them; a header with nothing of the host under it
 * is left out. Colours are taken out.
 */
const HEADER = /^(PLAY \[|PLAY RECAP|TASK \[|RUNNING HANDLER \[)/;
const RESULT = /^(ok|changed|fatal|failed|skipping|unreachable|included|rescued|ignored|FAILED - RETRYING|\.\.\.ignoring)[:!]? ?\[/;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function hostLogLines(lines: readonly string[], host: string): string[] {
  const mentions = new RegExp(`\\[${escape(host)}(\\]| ->)`);
  const recapLine = new RegExp(`^${escape(host)}\\s+:\\s+ok=`);
  const out: string[] = [];
  let header: string | null = null;
  let following = false;
  for (const raw of lines) {
    const line = raw.replace(ANSI, '');
    if (HEADER.test(line)) {
      header = line;
      following = false;
      continue;
    }
    if (mentions.test(line) || recapLine.test(line)) {
      if (header !== null) {
        out.push(header);
        header = null;
      }
      out.push(line);
      following = RESULT.test(line);
      continue;
    }
    if (RESULT.test(line)) following = false;
    else if (following && line.trim() !== '') out.push(line);
  }
  return out;
}
