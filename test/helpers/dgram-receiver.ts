/**
 * A unix datagram socket to receive on (node has none of its own): a python3 process binds it —
 * at a path, or at an abstract name when the address starts with '@' — and prints each datagram
 * it gets as one JSON string per line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { which } from './procs.js';

export const hasPython3 = which('python3') !== null;

const script = `
import json, socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps('bound'), flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps(data.decode('latin-1')), flush=True)
`;

export interface DgramReceiver {
  /** Every datagram received so far, in order. */
  received: string[];
  close(): void;
}

/** Binds `address` and resolves once it is bound. */
export function receiveDatagrams(address: string): Promise<DgramReceiver> {
  const p: ChildProcess = spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const received: string[] = [];
  return new Promise((resolve, reject) => {
    p.once('error', reject);
    p.once('exit', (code) => reject(new Error(`the python3 receiver exited (${code})`)));
    createInterface({ input: p.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const text = JSON.parse(line) as string;
      if (text === 'bound' && received.length === 0) {
        p.removeAllListeners('exit');
        resolve({ received, close: () => p.kill('SIGKILL') });
        return;
      }
      received.push(text);
    });
  });
}
