/**
 * `Content-Disposition: attachment` for a file name a step chose: an ASCII fallback with every
 * character outside [A-Za-z0-9._-] replaced (no quotes, no CR/LF, no `;`), and the exact name in
 * RFC 5987's `filename*` for browsers that read it.
 */
export function attachment(name: string): string {
  const fallback =
    name
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 200) || 'download';
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}
