// The text log format: a field from remote input cannot forge a line or drive a terminal.
import test from 'ava';
import { escapeLogText, textLogLine } from '../src/log.js';

test('control characters, line separators and bidi overrides are escaped; the rest stays', (t) => {
  t.is(escapeLogText('plain text: 10.0.0.1:5050 ünïcödé'), 'plain text: 10.0.0.1:5050 ünïcödé');
  t.is(escapeLogText('a\nb\r\tc'), 'a\\u000ab\\u000d\\u0009c');
  t.is(escapeLogText('\u001b[2J\u001b]0;title\u0007'), '\\u001b[2J\\u001b]0;title\\u0007');
  t.is(escapeLogText('\u007f\u0085\u009b'), '\\u007f\\u0085\\u009b');
  t.is(escapeLogText('x\u2028y\u2029z'), 'x\\u2028y\\u2029z');
  t.is(escapeLogText('\u202euser\u2066'), '\\u202euser\\u2066');
});

test('a master error body with a forged line stays on one line, in fields and message', (t) => {
  const forged = 'oops\n2026-12-07T00:00:00.000Z ERROR forged\u001b[31m';
  const line = textLogLine({
    level: 'warn',
    message: `state request failed: ${forged}`,
    timestamp: '2026-12-07T01:02:03.004Z',
    error: forged,
    count: 3,
    nested: { body: forged },
  });
  t.false(line.includes('\n'));
  t.false(line.includes('\u001b'));
  t.true(line.startsWith('2026-12-07T01:02:03.004Z WARN  state request failed: oops\\u000a2026'));
  t.true(line.includes(' count=3 '));
  t.true(line.includes('error=oops\\u000a2026-12-07T00:00:00.000Z ERROR forged\\u001b[31m'));
  t.true(
    line.endsWith('nested={"body":"oops\\n2026-12-07T00:00:00.000Z ERROR forged\\u001b[31m"}'),
  );
});
