/**
 * etcdserverpb.Cluster's changing methods (MemberAdd, MemberRemove, MemberUpdate, MemberPromote)
 * and Maintenance.MoveLeader; the work is in server/cluster-ops.ts. Responses as etcd's
 * v3rpc/member.go: header with cluster id, member id and raft term (revision 0: these calls do
 * not touch the KV store); MemberAdd's `member` carries only ID, peer URLs and the learner flag.
 * MoveLeader answers an empty response (etcd 3.4 sets no header: `etcdctl -w json` prints {}).
 */
import { toWire } from '../api/convert.js';
import type { MemberInfo, ServerApi } from '../server/server-api.js';
import { unary, type ObjUnary, type ServiceImpl } from './unary.js';
import { callerOf, gateHost } from './auth-service.js';
import type { CallContext } from './h2/grpc-server.js';

/** proto-loader gives uint64 as a decimal string. */
function u64(v: unknown): bigint {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : 0n;
}

function wireMember(m: MemberInfo): Record<string, unknown> {
  return { ID: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner };
}

function membersResponse(server: ServerApi, type: string, members: MemberInfo[]): unknown {
  return toWire(type, { header: { ...server.header(), revision: 0n }, members: members.map(wireMember) });
}

export function memberHandlers(server: ServerApi): ServiceImpl {
  const host = gateHost(server);
  /** Auth hook (etcd checkMembershipOperationPermission): root only. */
  const rootOnly = async (ctx: CallContext): Promise<void> => server.auth.checkAdmin(await callerOf(server, ctx, host));
  return {
    MemberAdd: unary(async (wire, ctx) => {
      await rootOnly(ctx);
      const req = wire as { peerURLs?: string[]; isLearner?: boolean };
      const r = await server.memberAdd(req.peerURLs ?? [], req.isLearner === true);
      return toWire('etcdserverpb.MemberAddResponse', {
        header: { ...server.header(), revision: 0n },
        member: { ID: r.member.id, name: '', peerURLs: r.member.peerURLs, clientURLs: [], isLearner: r.member.isLearner },
        members: r.members.map(wireMember),
      });
    }),
    MemberRemove: unary(async (wire, ctx) => {
      await rootOnly(ctx);
      const members = await server.memberRemove(u64((wire as { ID?: unknown }).ID));
      return membersResponse(server, 'etcdserverpb.MemberRemoveResponse', members);
    }),
    MemberUpdate: unary(async (wire, ctx) => {
      await rootOnly(ctx);
      const req = wire as { ID?: unknown; peerURLs?: string[] };
      const members = await server.memberUpdate(u64(req.ID), req.peerURLs ?? []);
      return membersResponse(server, 'etcdserverpb.MemberUpdateResponse', members);
    }),
    MemberPromote: unary(async (wire, ctx) => {
      await rootOnly(ctx);
      const members = await server.memberPromote(u64((wire as { ID?: unknown }).ID));
      return membersResponse(server, 'etcdserverpb.MemberPromoteResponse', members);
    }),
  };
}

export function moveLeaderHandler(server: ServerApi): ObjUnary {
  return unary(async (wire) => {
    await server.moveLeader(u64((wire as { targetID?: unknown }).targetID));
    return {};
  });
}
