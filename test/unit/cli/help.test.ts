/**
 * Help and usage text against etcdctl 3.4.23's, captured from the real etcdctl
 * (`etcdctl get --help`, `etcdctl compaction --help`): the layout is etcdctl's usage template
 * through Go's tabwriter, so the tab runs must match exactly.
 */
import { describe, expect, it } from 'vitest';
import { helpText, cobraUsage, flagSetFor } from '../../../src/cli/command.js';
import { rootCommand } from '../../../src/cli/main.js';
import { getCommand } from '../../../src/cli/commands/get.js';
import { compactionCommand } from '../../../src/cli/commands/compaction.js';
import { tabwrite } from '../../../src/cli/tabwriter.js';

// Captured: etcdctl get --help (etcdctl 3.4.23)
const etcdctlGetHelp = "NAME:\n\tget - Gets the key or a range of keys\n\nUSAGE:\n\tetcdctl get [options] <key> [range_end] [flags]\n\nOPTIONS:\n      --consistency=\"l\"\t\t\tLinearizable(l) or Serializable(s)\n      --from-key[=false]\t\tGet keys that are greater than or equal to the given key using byte compare\n  -h, --help[=false]\t\t\thelp for get\n      --keys-only[=false]\t\tGet only the keys\n      --limit=0\t\t\t\tMaximum number of results\n      --order=\"\"\t\t\tOrder of results; ASCEND or DESCEND (ASCEND by default)\n      --prefix[=false]\t\t\tGet keys with matching prefix\n      --print-value-only[=false]\tOnly write values when using the \"simple\" output format\n      --rev=0\t\t\t\tSpecify the kv revision\n      --sort-by=\"\"\t\t\tSort target; CREATE, KEY, MODIFY, VALUE, or VERSION\n\nGLOBAL OPTIONS:\n      --cacert=\"\"\t\t\t\tverify certificates of TLS-enabled secure servers using this CA bundle\n      --cert=\"\"\t\t\t\t\tidentify secure client using this TLS certificate file\n      --command-timeout=5s\t\t\ttimeout for short running command (excluding dial timeout)\n      --debug[=false]\t\t\t\tenable client-side debug logging\n      --dial-timeout=2s\t\t\t\tdial timeout for client connections\n  -d, --discovery-srv=\"\"\t\t\tdomain name to query for SRV records describing cluster endpoints\n      --discovery-srv-name=\"\"\t\t\tservice name to query when using DNS discovery\n      --endpoints=[127.0.0.1:2379]\t\tgRPC endpoints\n      --hex[=false]\t\t\t\tprint byte strings as hex encoded strings\n      --insecure-discovery[=true]\t\taccept insecure SRV records describing cluster endpoints\n      --insecure-skip-tls-verify[=false]\tskip server certificate verification (CAUTION: this option should be enabled only for testing purposes)\n      --insecure-transport[=true]\t\tdisable transport security for client connections\n      --keepalive-time=2s\t\t\tkeepalive time for client connections\n      --keepalive-timeout=6s\t\t\tkeepalive timeout for client connections\n      --key=\"\"\t\t\t\t\tidentify secure client using this TLS key file\n      --password=\"\"\t\t\t\tpassword for authentication (if this option is used, --user option shouldn't include password)\n      --user=\"\"\t\t\t\t\tusername[:password] for authentication (prompt if password is not supplied)\n  -w, --write-out=\"simple\"\t\t\tset the output format (fields, json, protobuf, simple, table)\n\n";

// Captured: etcdctl compaction --help (etcdctl 3.4.23)
const etcdctlCompactionHelp = "NAME:\n\tcompaction - Compacts the event history in etcd\n\nUSAGE:\n\tetcdctl compaction [options] <revision> [flags]\n\nOPTIONS:\n  -h, --help[=false]\t\thelp for compaction\n      --physical[=false]\t'true' to wait for compaction to physically remove all old revisions\n\nGLOBAL OPTIONS:\n      --cacert=\"\"\t\t\t\tverify certificates of TLS-enabled secure servers using this CA bundle\n      --cert=\"\"\t\t\t\t\tidentify secure client using this TLS certificate file\n      --command-timeout=5s\t\t\ttimeout for short running command (excluding dial timeout)\n      --debug[=false]\t\t\t\tenable client-side debug logging\n      --dial-timeout=2s\t\t\t\tdial timeout for client connections\n  -d, --discovery-srv=\"\"\t\t\tdomain name to query for SRV records describing cluster endpoints\n      --discovery-srv-name=\"\"\t\t\tservice name to query when using DNS discovery\n      --endpoints=[127.0.0.1:2379]\t\tgRPC endpoints\n      --hex[=false]\t\t\t\tprint byte strings as hex encoded strings\n      --insecure-discovery[=true]\t\taccept insecure SRV records describing cluster endpoints\n      --insecure-skip-tls-verify[=false]\tskip server certificate verification (CAUTION: this option should be enabled only for testing purposes)\n      --insecure-transport[=true]\t\tdisable transport security for client connections\n      --keepalive-time=2s\t\t\tkeepalive time for client connections\n      --keepalive-timeout=6s\t\t\tkeepalive timeout for client connections\n      --key=\"\"\t\t\t\t\tidentify secure client using this TLS key file\n      --password=\"\"\t\t\t\tpassword for authentication (if this option is used, --user option shouldn't include password)\n      --user=\"\"\t\t\t\t\tusername[:password] for authentication (prompt if password is not supplied)\n  -w, --write-out=\"simple\"\t\t\tset the output format (fields, json, protobuf, simple, table)\n\n";

// Captured: the usage etcdctl prints to stderr for `get a --badflag` inside txn input.
const etcdctlNestedGetUsage =
  'Usage:\n   get [options] <key> [range_end] [flags]\n\nFlags:\n' +
  '      --consistency string   Linearizable(l) or Serializable(s) (default "l")\n' +
  '      --from-key             Get keys that are greater than or equal to the given key using byte compare\n' +
  '  -h, --help                 help for get\n' +
  '      --keys-only            Get only the keys\n' +
  '      --limit int            Maximum number of results\n' +
  '      --order string         Order of results; ASCEND or DESCEND (ASCEND by default)\n' +
  '      --prefix               Get keys with matching prefix\n' +
  '      --print-value-only     Only write values when using the "simple" output format\n' +
  '      --rev int              Specify the kv revision\n' +
  '      --sort-by string       Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION\n\n';

describe('help text as etcdctl prints it', () => {
  it('get --help is byte-identical to etcdctl 3.4.23', () => {
    expect(helpText(rootCommand.children!.find((c) => c.name === 'get')!)).toBe(etcdctlGetHelp);
    void getCommand;
  });

  it('compaction --help is byte-identical to etcdctl 3.4.23', () => {
    expect(helpText(rootCommand.children!.find((c) => c.name === 'compaction')!)).toBe(etcdctlCompactionHelp);
    void compactionCommand;
  });

  it('txn\'s nested get prints cobra\'s default usage on a bad flag', () => {
    const nested = { ...getCommand, parent: undefined };
    expect(cobraUsage(nested)).toBe(etcdctlNestedGetUsage);
    void flagSetFor;
  });
});

describe('tabwriter (Go text/tabwriter, padchar tab, tabwidth 8, padding 1)', () => {
  it('pads each column block to the next tab stop past its widest cell', () => {
    expect(tabwrite('ab\tx\nabcdefgh\ty\n\nz\tw')).toBe('ab\t\tx\nabcdefgh\ty\n\nz\tw');
  });
  it('starts a new block after a line without cells', () => {
    expect(tabwrite('a\tb\nOPTIONS:\nabcdefghij\tc')).toBe('a\tb\nOPTIONS:\nabcdefghij\tc');
  });
});
