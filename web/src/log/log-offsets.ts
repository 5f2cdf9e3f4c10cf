/**
 * Merges log chunks that arrive by byte offset (WebSocket `log` messages and REST `?offset=`
 * reads) into one gap-free, duplicate-free stream per step. Offsets count UTF-8 bytes.
 * Pure TypeScript (TextEncoder/TextDecoder exist in browsers and Node).
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function byteLength(text: string): number {
  // fast path for ASCII
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : encoder.encode(text).length;
}

export type ChunkDecision =
  /** Append this text (possibly the new tail of an overlapping chunk). */
  | { kind: 'append'; text: string; nextOffset: number }
  /** Everything in the chunk is already known. */
  | { kind: 'duplicate' }
  /** The chunk starts after what is known: bytes are missing, fetch from `from`. */
  | { kind: 'gap'; from: number };

/** Decides what to do with a chunk starting at byte `offset` when `known` bytes are already held. */
export function acceptChunk(known: number, offset: number, text: string): ChunkDecision {
  if (offset > known) return { kind: 'gap', from: known };
  const size = byteLength(text);
  const end = offset + size;
  if (end <= known) return { kind: 'duplicate' };
  if (offset === known) return { kind: 'append', text, nextOffset: end };
  const bytes = encoder.encode(text);
  return { kind: 'append', text: decoder.decode(bytes.subarray(known - offset)), nextOffset: end };
}

export interface PendingChunk {
  offset: number;
  text: string;
}

/**
 * Applies queued chunks (e.g. those that arrived while a REST read was in flight) in offset order.
 * Returns the text to append, the new byte count, and whether a gap remains.
 */
export function drainChunks(known: number, chunks: PendingChunk[]): { text: string; known: number; gapFrom: number | null } {
  const sorted = [...chunks].sort((a, b) => a.offset - b.offset);
  let text = '';
  let position = known;
  for (const chunk of sorted) {
    const decision = acceptChunk(position, chunk.offset, chunk.text);
    if (decision.kind === 'gap') return { text, known: position, gapFrom: decision.from };
    if (decision.kind === 'append') {
      text += decision.text;
      position = decision.nextOffset;
    }
  }
  return { text, known: position, gapFrom: null };
}
