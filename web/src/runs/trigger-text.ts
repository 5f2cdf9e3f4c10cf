/** One-line description of what started a run. */
import type { RunTrigger } from '../api/types';

export function triggerText(trigger: RunTrigger | null | undefined): string {
  if (!trigger) return '—';
  switch (trigger.type) {
    case 'manual':
      return trigger.user ? `Manual · ${trigger.user.username}` : 'Manual';
    case 'api':
      return trigger.user ? `API · ${trigger.user.username}` : 'API';
    case 'webhook': {
      const parts = [trigger.provider, trigger.event].filter(Boolean).join(' ');
      const who = trigger.author ? ` · ${trigger.author}` : '';
      return `Webhook${parts ? ` · ${parts}` : ''}${who}`;
    }
    default:
      return String((trigger as { type?: unknown }).type ?? '—');
  }
}
