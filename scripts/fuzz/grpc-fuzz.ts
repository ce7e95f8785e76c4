/**
 * gRPC method inputs for the fuzzer: for every method of proto/ (allServiceMethods), request
 * bytes that are random messages of the method's request type, mutations of them, or plain
 * random bytes, sent as raw frames through grpc-js with a pass-through serializer (so nothing on
 * our side validates them), with odd metadata now and then. Requests that would decode into a
 * change that takes the cluster away from the fuzzer (adding a member, removing or promoting a
 * real one, raising an alarm, moving the leader, a root user) are not sent: what is tested is
 * the server's handling of bad input, not whether a cluster survives being reconfigured.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { allServiceMethods, protoRoot, type ServiceMethodInfo } from '../../src/api/proto.js';
import type { SeededRand } from '../../src/base/random.js';
import { bytes, encodeRandom, mutateMany } from './mutate.js';

export interface GrpcInput {
  method: ServiceMethodInfo;
  /** One request message, or several for a client-streaming call. */
  payloads: Buffer[];
  metadata: [string, string][];
}

export interface MethodTarget {
  info: ServiceMethodInfo;
  type: protobuf.Type;
}

export function methodTargets(): MethodTarget[] {
  // requestType is the message's full name (package included).
  return allServiceMethods().map((info) => ({ info, type: protoRoot.lookupType(info.requestType) }));
}

function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

export function grpcInput(r: SeededRand, targets: readonly MethodTarget[]): GrpcInput {
  const t = pick(r, targets);
  const one = (): Buffer => {
    const roll = r.next();
    if (roll < 0.3) return encodeRandom(r, t.type);
    if (roll < 0.9) return mutateMany(r, encodeRandom(r, t.type));
    return bytes(r, r.int(r.next() < 0.9 ? 64 : 4096));
  };
  const payloads = t.info.requestStream ? Array.from({ length: 1 + r.int(3) }, one) : [one()];
  const metadata: [string, string][] = [];
  if (r.next() < 0.1) metadata.push(['token', pick(r, ['', 'garbage', 'a.b.c', 'x'.repeat(5000)])]);
  if (r.next() < 0.05) metadata.push([pick(r, ['x-fuzz', 'authorization', 'hasleader', 'grpc-accept-encoding']), pick(r, ['true', '1', '', '\u00e9'])]);
  return { method: t.info, payloads, metadata };
}

/** A Range that etcd 3.4.23 panics on: an unknown sort target (sort.Sort(nil) in applierV3backend.Range, apply.go:331). */
function etcd34SortPanic(r: Record<string, unknown> | null | undefined): boolean {
  if (!r) return false;
  // sort_order NONE with a target other than KEY means ASCEND there; orders above DESCEND are refused first.
  const order = r.sort_order as number;
  const target = r.sort_target as number;
  return order >= 0 && order <= 2 && (target > 4 || target < 0);
}

function txnRanges(t: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const op of [...((t.success as Record<string, unknown>[] | undefined) ?? []), ...((t.failure as Record<string, unknown>[] | undefined) ?? [])]) {
    if (op.request_range) out.push(op.request_range as Record<string, unknown>);
    if (op.request_txn) out.push(...txnRanges(op.request_txn as Record<string, unknown>));
  }
  return out;
}

/**
 * Why not to send this input (it would reconfigure the cluster, or it is a known crash of the
 * real etcd being compared against), or null.
 */
export function hazard(input: GrpcInput, targets: readonly MethodTarget[], memberIds: readonly bigint[], target: 'etcdts' | 'etcd' = 'etcdts'): string | null {
  const t = targets.find((x) => x.info.path === input.method.path);
  if (!t) return null;
  for (const p of input.payloads) {
    let m: Record<string, unknown>;
    try {
      m = t.type.toObject(t.type.decode(p), { longs: String, defaults: true }) as Record<string, unknown>;
    } catch {
      continue; // undecodable: exactly what we want to send
    }
    const id = (v: unknown): boolean => typeof v === 'string' && memberIds.includes(BigInt.asUintN(64, BigInt(v)));
    switch (input.method.path) {
      case '/etcdserverpb.Cluster/MemberAdd':
        if ((m.peerURLs as string[]).length > 0) return 'would add a member';
        break;
      case '/etcdserverpb.Cluster/MemberRemove':
      case '/etcdserverpb.Cluster/MemberUpdate':
      case '/etcdserverpb.Cluster/MemberPromote':
        if (id(m.ID)) return 'would change a real member';
        break;
      case '/etcdserverpb.Maintenance/Alarm':
        if (m.action === 1) return 'would raise an alarm';
        // An action it does not know leaves a nil response that the gRPC layer then marshals.
        if (target === 'etcd' && ((m.action as number) > 2 || (m.action as number) < 0)) return 'known etcd 3.4.23 panic: unknown alarm action';
        break;
      case '/etcdserverpb.Maintenance/MoveLeader':
        if (id(m.targetID)) return 'would move the leader';
        break;
      case '/etcdserverpb.Maintenance/Downgrade':
        if (m.action === 1) return 'would start a downgrade';
        break;
      case '/etcdserverpb.KV/Range':
        if (target === 'etcd' && etcd34SortPanic(m)) return 'known etcd 3.4.23 panic: unknown sort target';
        break;
      case '/etcdserverpb.KV/Txn':
        if (target === 'etcd' && txnRanges(m).some(etcd34SortPanic)) return 'known etcd 3.4.23 panic: unknown sort target';
        break;
      case '/etcdserverpb.Auth/RoleGrantPermission':
        // auth/store.go:906 dereferences a missing perm when applying (on every member).
        if (target === 'etcd' && (m.perm === null || m.perm === undefined)) return 'known etcd 3.4.23 panic: RoleGrantPermission without perm';
        break;
      case '/etcdserverpb.Auth/UserAdd':
      case '/etcdserverpb.Auth/UserGrantRole':
      case '/etcdserverpb.Auth/UserChangePassword':
        if (m.name === 'root' || m.user === 'root') return 'would make a root user';
        break;
      default:
        break;
    }
  }
  return null;
}

const raw = (b: Buffer): Buffer => b;

export interface CallOutcome {
  code: number;
  details: string;
}

export function sendGrpc(client: grpc.Client, input: GrpcInput, timeoutMs: number): Promise<CallOutcome> {
  const md = new grpc.Metadata();
  for (const [k, v] of input.metadata) {
    try {
      md.add(k, v);
    } catch {
      /* grpc-js refuses some names: fine */
    }
  }
  const opts: grpc.CallOptions = { deadline: Date.now() + timeoutMs };
  const path = input.method.path;
  return new Promise((resolve) => {
    let settled = false;
    const done = (code: number, details: string): void => {
      if (settled) return;
      settled = true;
      resolve({ code, details });
    };
    const fromErr = (e: grpc.ServiceError | null): void => (e ? done(e.code, e.details) : done(0, ''));
    const { requestStream, responseStream } = input.method;
    if (!requestStream && !responseStream) {
      client.makeUnaryRequest(path, raw, raw, input.payloads[0] as Buffer, md, opts, (e) => fromErr(e));
    } else if (!requestStream && responseStream) {
      const call = client.makeServerStreamRequest(path, raw, raw, input.payloads[0] as Buffer, md, opts);
      call.on('data', () => undefined);
      call.on('error', (e: grpc.ServiceError) => fromErr(e));
      call.on('status', (s: grpc.StatusObject) => done(s.code, s.details));
    } else {
      const call = client.makeBidiStreamRequest(path, raw, raw, md, opts);
      call.on('data', () => undefined);
      call.on('error', (e: grpc.ServiceError) => fromErr(e));
      call.on('status', (s: grpc.StatusObject) => done(s.code, s.details));
      for (const p of input.payloads) call.write(p);
      call.end();
    }
  });
}
