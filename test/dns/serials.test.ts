import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { isSerialAfter, laterSerial, peerSerials } from '../../src/dns/index.js';
import { soaAnswer } from '../../support/dns-message.js';

test('RFC 1982: later means ahead by less than half the space, across the wrap', (t) => {
  t.true(isSerialAfter(2, 1));
  t.false(isSerialAfter(1, 1));
  t.true(isSerialAfter(0, 0xffffffff), 'the wrap');
  t.false(isSerialAfter(0x80000000, 0), 'exactly half: neither');
  t.is(laterSerial(5, 0xfffffff0), 5);
  t.is(laterSerial(5, undefined), 5);
  t.is(laterSerial(5, 7), 7);
});

/** A secondary on loopback that ignores the first `ignore` queries, then answers with `serial`. */
async function secondary(
  t: ExecutionContext,
  serial: number,
  ignore: number,
): Promise<{ socket: Socket; queries: () => number; port: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  let queries = 0;
  socket.on('message', (query, rinfo) => {
    queries++;
    if (queries > ignore) socket.send(soaAnswer(query, serial), rinfo.port, rinfo.address);
  });
  return { socket, queries: () => queries, port: socket.address().port };
}

test('peerSerials asks a silent secondary again: one lost query does not lose its serial', async (t) => {
  const quick = await secondary(t, 1000, 0);
  const lossy = await secondary(t, 2000, 1);
  const serials = await peerSerials(
    [
      { host: '127.0.0.1', port: quick.port },
      { host: '127.0.0.1', port: lossy.port },
    ],
    'mesos.',
    5000,
  );
  t.deepEqual(serials, [1000, 2000]);
  t.true(lossy.queries() >= 2, 'the silent one was asked again');
});

test('peerSerials leaves out a secondary that never answers, after the timeout', async (t) => {
  const mute = await secondary(t, 3000, Number.POSITIVE_INFINITY);
  const started = Date.now();
  t.deepEqual(await peerSerials([{ host: '127.0.0.1', port: mute.port }], 'mesos.', 1000), []);
  t.true(Date.now() - started >= 1000);
  t.is(mute.queries(), 3, 'asked at once, after 300 ms and after 900 ms');
});
