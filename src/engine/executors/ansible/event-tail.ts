/**
 * Reads the callback plugin's events file as Ansible writes it: every `intervalMs`, the bytes
 * added since the last read, cut at the last complete line, parsed and handed on in order (the
 * next read waits until the handler is done with the previous batch). `stop()` reads what is
 * left once the playbook has ended.
 *
 * A file being polled, rather than a pipe: Ansible forks a worker per host, and each writes
 * through the plugin in the main process only; the plugin flushes every line, so a reader sees
 * whole lines as soon as they are written, whatever buffers sit in between.
 */
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { parseAnsibleEvent, type AnsibleEvent } from '../../../domain/ansible-events.js';

/** Most bytes read in one go (a recap of 10 000 hosts fits a few of these). */
const CHUNK = 1024 * 1024;

export interface EventTail {
  /** Reads what is left and stops; resolves when every event was handed on. */
  stop(): Promise<void>;
}

export function tailEvents(file: string, onEvents: (events: AnsibleEvent[]) => Promise<void>, intervalMs = 100, chunkBytes = CHUNK): EventTail {
  let offset = 0;
  // One buffer for the tail's life, not one a read: a fresh zero-filled 1 MiB ten times a second
  // cost the server memset and garbage collection for every Ansible step, mostly for reads that
  // found nothing new. Reusing it is safe: each read is decoded into a string before the next.
  let buffer: Buffer | null = null;
  let partial = '';
  // A read may end inside a character (messages are UTF-8: host names, task names, output in any
  // language); the decoder keeps its first bytes until the rest arrives instead of garbling it.
  const decoder = new StringDecoder('utf8');
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let reading: Promise<void> = Promise.resolve();

  const readMore = async (): Promise<void> => {
    const handle = await open(file, 'r').catch(() => null);
    if (!handle) return;
    try {
      for (;;) {
        buffer ??= Buffer.allocUnsafe(chunkBytes);
        const { bytesRead } = await handle.read(buffer, 0, chunkBytes, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = partial + decoder.write(buffer.subarray(0, bytesRead));
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        const events = lines.map(parseAnsibleEvent).filter((e): e is AnsibleEvent => e !== null);
        if (events.length > 0) await onEvents(events);
        if (bytesRead < chunkBytes) break;
      }
    } finally {
      await handle.close();
    }
  };

  const tick = () => {
    reading = reading.then(readMore).catch(() => undefined);
    void reading.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, intervalMs);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await reading;
      await readMore().catch(() => undefined);
    },
  };
}
