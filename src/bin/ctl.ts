/** ctl, the etcdctl-compatible command line. */
import { main } from '../cli/main.js';
import { offlineTools } from './ctl-offline.js';

const latin1Out = {
  stdout: (s: string) => void process.stdout.write(Buffer.from(s, 'latin1')),
  stderr: (s: string) => void process.stderr.write(Buffer.from(s, 'latin1')),
};

void main(process.argv.slice(2), latin1Out, { offline: offlineTools }).then((code) => {
  process.exitCode = code;
});
