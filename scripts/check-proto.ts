/**
 * One-off check: compares our proto/ files with etcd's own .proto files (Debian's
 * golang-etcd-server-dev ships etcd 3.4.23's under /usr/share/gocode/src) and prints every
 * difference in services, methods, messages, fields, oneofs and enums.
 *
 * Usage: node --import tsx scripts/check-proto.ts [gocodeSrcDir]
 *
 * Our files target the 3.5 surface (plus a few harmless 3.6 response fields), so the
 * expected differences are exactly the 3.5/3.6 additions; everything else is a bug.
 * The reference files import gogoproto and google.api annotations; protobufjs's parse() only
 * records imports without loading them and accepts unknown custom options, so they need no stubs.
 */
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { protoDir, protoFiles } from '../src/api/proto.js';

const gocode = process.argv[2] ?? '/usr/share/gocode/src';
const refFiles = [
  'go.etcd.io/etcd/etcdserver/etcdserverpb/rpc.proto',
  'go.etcd.io/etcd/mvcc/mvccpb/kv.proto',
  'go.etcd.io/etcd/auth/authpb/auth.proto',
  'go.etcd.io/etcd/etcdserver/api/v3election/v3electionpb/v3election.proto',
  'go.etcd.io/etcd/etcdserver/api/v3lock/v3lockpb/v3lock.proto',
  'google.golang.org/grpc/debian/missing-sources/grpc/grpc-proto/master/grpc/health/v1/health.proto',
].map((f) => path.join(gocode, f));

function parseAll(files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  for (const f of files) protobuf.parse(fs.readFileSync(f, 'utf8'), root, { keepCase: true });
  root.resolveAll();
  return root;
}

/** Flattens a root into "kind fullName" → description lines, comparable across roots. */
function describe(root: protobuf.Root): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (ns: protobuf.ReflectionObject): void => {
    if (ns instanceof protobuf.Type) {
      const name = ns.fullName.slice(1);
      out.set(`message ${name}`, '');
      for (const f of ns.fieldsArray) {
        const type = f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type;
        const label = f instanceof protobuf.MapField ? `map<${f.keyType}>` : f.repeated ? 'repeated' : 'singular';
        const oneof = f.partOf ? ` oneof ${f.partOf.name}` : '';
        out.set(`field ${name}.${f.name}`, `#${f.id} ${label} ${type}${oneof}`);
      }
      for (const o of ns.oneofsArray) out.set(`oneof ${name}.${o.name}`, o.oneof.join(','));
    } else if (ns instanceof protobuf.Enum) {
      const name = ns.fullName.slice(1);
      out.set(`enum ${name}`, '');
      for (const [k, v] of Object.entries(ns.values)) out.set(`enumvalue ${name}.${k}`, String(v));
    } else if (ns instanceof protobuf.Service) {
      const name = ns.fullName.slice(1);
      out.set(`service ${name}`, '');
      for (const m of ns.methodsArray) {
        const req = m.resolvedRequestType?.fullName.slice(1) ?? m.requestType;
        const res = m.resolvedResponseType?.fullName.slice(1) ?? m.responseType;
        out.set(
          `rpc ${name}/${m.name}`,
          `${m.requestStream ? 'stream ' : ''}${req} -> ${m.responseStream ? 'stream ' : ''}${res}`,
        );
      }
    }
    if (ns instanceof protobuf.Namespace) for (const child of ns.nestedArray) visit(child);
  };
  visit(root);
  return out;
}

const ours = describe(parseAll(protoFiles.map((f) => path.join(protoDir, f))));
const ref = describe(parseAll(refFiles));

let diffs = 0;
for (const key of [...new Set([...ours.keys(), ...ref.keys()])].sort()) {
  const a = ours.get(key);
  const b = ref.get(key);
  if (a === b) continue;
  diffs++;
  if (b === undefined) console.log(`only ours : ${key} ${a}`);
  else if (a === undefined) console.log(`only 3.4  : ${key} ${b}`);
  else console.log(`differs   : ${key}: ours ${a} | 3.4 ${b}`);
}
console.log(`${diffs} difference(s); ${ours.size} items in ours, ${ref.size} in reference`);
