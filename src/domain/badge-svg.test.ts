import { test } from 'node:test';
import assert from 'node:assert/strict';
import { badgeLook, escapeXml, renderBadge } from './badge-svg.js';

test('a badge escapes its label and message: no markup from a pipeline name survives', () => {
  const svg = renderBadge(`x"/><script>alert(1)</script><a href='javascript:1'>&`, badgeLook('success'));
  assert.ok(!svg.includes('<script'), svg);
  assert.ok(!svg.includes("href='"), svg);
  assert.ok(svg.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), svg);
  assert.ok(svg.includes('x&quot;/&gt;'), svg);
  assert.ok(svg.includes('&amp;'), svg);
  // Exactly the tags the template writes.
  const tags = [...svg.matchAll(/<([a-zA-Z]+)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(tags)].sort(), ['clipPath', 'g', 'linearGradient', 'rect', 'stop', 'svg', 'text', 'title']);
});

test('each run status has its message; no run yet says so', () => {
  assert.equal(badgeLook('success').message, 'passing');
  assert.equal(badgeLook('failed').message, 'failing');
  assert.equal(badgeLook(null).message, 'no runs');
  assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
});

test('a very long name is cut, and the badge grows with its texts', () => {
  const short = renderBadge('a', badgeLook('success'));
  const long = renderBadge('a'.repeat(500), badgeLook('success'));
  const width = (svg: string) => Number(/width="(\d+)"/.exec(svg)![1]);
  assert.ok(width(long) > width(short));
  assert.ok(!long.includes('a'.repeat(61)));
});
