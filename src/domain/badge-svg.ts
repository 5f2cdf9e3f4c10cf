/**
 * A status badge as SVG, in the flat style READMEs show (label on grey, message on the status
 * colour). Every text is XML-escaped, so a pipeline named `<script>` or `"/><a href=…` stays
 * text: the badge is served without login and embedded in other sites' pages.
 */
import type { RunStatus } from './status.js';

export interface BadgeLook {
  message: string;
  color: string;
}

/** What the badge says for the latest run on the branch (null: the branch has no run yet). */
export function badgeLook(status: RunStatus | null): BadgeLook {
  switch (status) {
    case null:
      return { message: 'no runs', color: '#9f9f9f' };
    case 'success':
      return { message: 'passing', color: '#4c1' };
    case 'failed':
      return { message: 'failing', color: '#e05d44' };
    case 'timeout':
      return { message: 'timed out', color: '#e05d44' };
    case 'error':
      return { message: 'error', color: '#e05d44' };
    case 'cancelled':
      return { message: 'cancelled', color: '#9f9f9f' };
    case 'running':
      return { message: 'running', color: '#007ec6' };
    case 'queued':
      return { message: 'queued', color: '#007ec6' };
    case 'waiting':
      return { message: 'waiting', color: '#dfb317' };
  }
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Roughly the width of Verdana 11px text (what badges use); exactness is not needed. */
const textWidth = (text: string) => Math.round([...text].length * 6.5 + 10);

/** Labels longer than this are cut (a badge is a glance, not a title). */
const MAX_LABEL = 60;

export function renderBadge(label: string, look: BadgeLook): string {
  const shownLabel = [...label].length > MAX_LABEL ? `${[...label].slice(0, MAX_LABEL - 1).join('')}…` : label;
  const left = textWidth(shownLabel);
  const right = textWidth(look.message);
  const width = left + right;
  const l = escapeXml(shownLabel);
  const m = escapeXml(look.message);
  const color = /^#[0-9a-f]{3,6}$/i.test(look.color) ? look.color : '#9f9f9f';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${l}: ${m}">`,
    `<title>${l}: ${m}</title>`,
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`,
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>`,
    `<g clip-path="url(#r)"><rect width="${left}" height="20" fill="#555"/><rect x="${left}" width="${right}" height="20" fill="${color}"/><rect width="${width}" height="20" fill="url(#s)"/></g>`,
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`,
    `<text x="${left / 2}" y="14">${l}</text><text x="${left + right / 2}" y="14">${m}</text>`,
    `</g></svg>`,
  ].join('');
}
