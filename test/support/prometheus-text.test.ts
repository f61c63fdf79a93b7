/** The strict Prometheus text parser used by the metrics tests: valid and invalid inputs. */
import test from 'ava';
import { PromParseError, parsePrometheusText, sampleSum } from '../../support/prometheus-text.js';

test('parses families, labels with escapes, special values and timestamps', (t) => {
  const families = parsePrometheusText(
    [
      '# HELP q_total Queries, with a \\\\ and a\\nnewline.',
      '# TYPE q_total counter',
      'q_total{path="a",qtype="A"} 3',
      'q_total{path="b\\"x\\\\y\\nz",qtype="A",} 4 1700000000000',
      '',
      '# a plain comment',
      '# TYPE g gauge',
      'g NaN',
      'g2 -Inf',
      '# TYPE h histogram',
      'h_bucket{le="0.1"} 1',
      'h_bucket{le="1"} 2',
      'h_bucket{le="+Inf"} 2',
      'h_sum 0.5',
      'h_count 2',
      '',
    ].join('\n'),
  );
  const q = families.get('q_total');
  t.is(q?.type, 'counter');
  t.is(q?.help, 'Queries, with a \\ and a\nnewline.');
  t.deepEqual(q?.samples[1]?.labels, { path: 'b"x\\y\nz', qtype: 'A' });
  t.is(q?.samples[1]?.timestamp, 1700000000000);
  t.true(Number.isNaN(families.get('g')?.samples[0]?.value));
  t.is(families.get('g2')?.type, 'untyped');
  t.is(families.get('h')?.samples.length, 5);
  t.is(sampleSum(families, 'q_total', { qtype: 'A' }), 7);
  t.is(sampleSum(families, 'q_total', { path: 'a' }), 3);
  t.is(sampleSum(families, 'nothing'), 0);
});

const INVALID: ReadonlyArray<readonly [string, string]> = [
  ['no final newline', 'a 1'],
  ['a bad metric name', '1a 1\n'],
  ['a bad value', 'a one\n'],
  ['a bad label name', 'a{1x="v"} 1\n'],
  ['an unquoted label value', 'a{x=v} 1\n'],
  ['an unterminated label value', 'a{x="v} 1\n'],
  ['a repeated label', 'a{x="1",x="2"} 1\n'],
  ['a bad escape', 'a{x="\\t"} 1\n'],
  ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
  ['interleaved families', 'a 1\nb 1\na{x="1"} 2\n'],
  ['a TYPE after samples', 'a 1\n# TYPE a counter\n'],
  ['two TYPE lines', '# TYPE a counter\n# TYPE a gauge\n'],
  ['an unknown type', '# TYPE a meter\n'],
  ['a negative counter', '# TYPE a counter\na -1\n'],
  ['a bad timestamp', 'a 1 now\n'],
  ['extra fields', 'a 1 2 3\n'],
];

for (const [what, text] of INVALID) {
  test(`rejects ${what}`, (t) => {
    t.throws(() => parsePrometheusText(text), { instanceOf: PromParseError });
  });
}

const BAD_HISTOGRAMS: ReadonlyArray<readonly [string, string]> = [
  ['no +Inf bucket', 'h_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  [
    'decreasing buckets',
    'h_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
  ],
  ['+Inf differing from count', 'h_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
  ['no _sum', 'h_bucket{le="+Inf"} 2\nh_count 2\n'],
];

for (const [what, body] of BAD_HISTOGRAMS) {
  test(`rejects a histogram with ${what}`, (t) => {
    t.throws(() => parsePrometheusText(`# TYPE h histogram\n${body}`));
  });
}
