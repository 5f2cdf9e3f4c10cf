import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, renderGauge } from './metrics-registry.js';

test('histograms are cumulative with +Inf, _sum and _count, in the text exposition format', () => {
  const h = new Histogram('x_seconds', 'help', [0.1, 1]);
  h.observe({ route: '/a' }, 0.05);
  h.observe({ route: '/a' }, 0.5);
  h.observe({ route: '/a' }, 5);
  assert.equal(
    h.render(),
    [
      '# HELP x_seconds help',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{route="/a",le="0.1"} 1',
      'x_seconds_bucket{route="/a",le="1"} 2',
      'x_seconds_bucket{route="/a",le="+Inf"} 3',
      'x_seconds_sum{route="/a"} 5.55',
      'x_seconds_count{route="/a"} 3',
    ].join('\n'),
  );
});

test('label values are escaped; counters and gauges render one sample per label set', () => {
  const c = new Counter('c_total', 'help');
  c.inc({ v: 'a"b\\c\nd' });
  c.inc({ v: 'a"b\\c\nd' }, 2);
  assert.match(c.render(), /^c_total\{v="a\\"b\\\\c\\nd"\} 3$/m);
  assert.equal(renderGauge('g', 'help', [{ value: 4 }]), '# HELP g help\n# TYPE g gauge\ng 4');
});
