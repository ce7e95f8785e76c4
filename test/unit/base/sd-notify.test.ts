/**
 * base/sd-notify.ts: READY=1 reaches a unix datagram socket named by NOTIFY_SOCKET, at a path or
 * at an abstract name ('@'); nothing is sent without the variable; a socket nobody listens on is
 * an error in Go's words.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SdNotifyError, sdNotify, sdNotifyReady } from '../../../src/base/sd-notify.js';
import { hasPython3, receiveDatagrams, type DgramReceiver } from '../../helpers/dgram-receiver.js';
import { inCI, tempDir, waitFor } from '../../helpers/procs.js';

if (!hasPython3 && inCI) throw new Error('the sd_notify tests need python3 under CI');

describe.skipIf(!hasPython3)('sd_notify', () => {
  let rx: DgramReceiver | undefined;
  afterEach(() => rx?.close());

  it('sends READY=1 to a socket at a path', async () => {
    const sock = path.join(tempDir('etcdts-notify-'), 'notify.sock');
    rx = await receiveDatagrams(sock);
    expect(sdNotify(sdNotifyReady, { NOTIFY_SOCKET: sock })).toBe(true);
    await waitFor('the datagram', async () => rx?.received.length === 1, 5000);
    expect(rx.received).toEqual(['READY=1']);
  });

  it('sends to an abstract socket named with a leading @', async () => {
    const name = `@etcdts-notify-${process.pid}-${Date.now()}`;
    rx = await receiveDatagrams(name);
    expect(sdNotify('READY=1', { NOTIFY_SOCKET: name })).toBe(true);
    await waitFor('the datagram', async () => rx?.received.length === 1, 5000);
    expect(rx.received).toEqual(['READY=1']);
  });

  it('does nothing without NOTIFY_SOCKET, and fails clearly when nobody listens there', () => {
    expect(sdNotify(sdNotifyReady, {})).toBe(false);
    expect(sdNotify(sdNotifyReady, { NOTIFY_SOCKET: '' })).toBe(false);
    const missing = path.join(tempDir('etcdts-notify-'), 'nobody.sock');
    expect(() => sdNotify(sdNotifyReady, { NOTIFY_SOCKET: missing })).toThrow(SdNotifyError);
    expect(() => sdNotify(sdNotifyReady, { NOTIFY_SOCKET: missing })).toThrow(`dial unixgram ${missing}: connect: no such file or directory`);
    expect(() => sdNotify(sdNotifyReady, { NOTIFY_SOCKET: `@etcdts-nobody-${process.pid}` })).toThrow('connect: connection refused');
  });
});
