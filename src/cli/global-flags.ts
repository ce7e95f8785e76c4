/** etcdctl 3.4's global flags (root persistent flags), with their defaults and help lines. */
import type { FlagSpec } from './flags.js';

export const globalFlags: FlagSpec[] = [
  { name: 'endpoints', kind: 'stringSlice', def: '[127.0.0.1:2379]', usage: 'gRPC endpoints' },
  { name: 'debug', kind: 'bool', def: 'false', usage: 'enable client-side debug logging' },
  { name: 'write-out', short: 'w', kind: 'string', def: 'simple', usage: 'set the output format (fields, json, protobuf, simple, table)' },
  { name: 'hex', kind: 'bool', def: 'false', usage: 'print byte strings as hex encoded strings' },
  { name: 'dial-timeout', kind: 'duration', def: '2s', usage: 'dial timeout for client connections' },
  { name: 'command-timeout', kind: 'duration', def: '5s', usage: 'timeout for short running command (excluding dial timeout)' },
  { name: 'keepalive-time', kind: 'duration', def: '2s', usage: 'keepalive time for client connections' },
  { name: 'keepalive-timeout', kind: 'duration', def: '6s', usage: 'keepalive timeout for client connections' },
  { name: 'insecure-transport', kind: 'bool', def: 'true', usage: 'disable transport security for client connections' },
  { name: 'insecure-discovery', kind: 'bool', def: 'true', usage: 'accept insecure SRV records describing cluster endpoints' },
  {
    name: 'insecure-skip-tls-verify',
    kind: 'bool',
    def: 'false',
    usage: 'skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)',
  },
  { name: 'cert', kind: 'string', def: '', usage: 'identify secure client using this TLS certificate file' },
  { name: 'key', kind: 'string', def: '', usage: 'identify secure client using this TLS key file' },
  { name: 'cacert', kind: 'string', def: '', usage: 'verify certificates of TLS-enabled secure servers using this CA bundle' },
  { name: 'user', kind: 'string', def: '', usage: 'username[:password] for authentication (prompt if password is not supplied)' },
  {
    name: 'password',
    kind: 'string',
    def: '',
    usage: "password for authentication (if this option is used, --user option shouldn't include password)",
  },
  { name: 'discovery-srv', short: 'd', kind: 'string', def: '', usage: 'domain name to query for SRV records describing cluster endpoints' },
  { name: 'discovery-srv-name', kind: 'string', def: '', usage: 'service name to query when using DNS discovery' },
];
