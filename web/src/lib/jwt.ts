/** Reads a JWT's expiry without verifying it (the server verifies; the UI only plans refreshes). */

function base64UrlDecode(input: string): string {
  const base64 = input.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Expiry in epoch milliseconds, or null when the token is not a readable JWT with `exp`. */
export function tokenExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(payload)) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** When to refresh: a minute before expiry (a fifth of the lifetime for short tokens), never in the past. */
export function refreshDelay(token: string, now: number, fallbackLifetimeMs = 15 * 60_000): number {
  const expiry = tokenExpiry(token) ?? now + fallbackLifetimeMs;
  const remaining = expiry - now;
  const margin = Math.min(60_000, Math.max(remaining / 5, 5_000));
  return Math.max(remaining - margin, 0);
}

/** True when the token expires within `withinMs` (or cannot be read). */
export function isExpiring(token: string, now: number, withinMs = 10_000): boolean {
  const expiry = tokenExpiry(token);
  return expiry !== null && expiry - now < withinMs;
}
