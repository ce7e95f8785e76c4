/**
 * etcdserverpb.Maintenance (Status, Alarm list) and etcdserverpb.Cluster (MemberList) as far as
 * a single member has them; the other methods answer UNIMPLEMENTED until they are built
 * (runtime membership and maintenance issue).
 */
import * as grpc from '@grpc/grpc-js';
import { toWire } from '../api/convert.js';
import { GrpcError, GrpcCode } from '../api/errors.js';
import { serverVersion, type EtcdServer } from '../server/etcd-server.js';
import { unary, type UnaryHandler } from './unary.js';

export function maintenanceHandlers(server: EtcdServer, onUnknown: (e: unknown) => void): Record<string, UnaryHandler> {
  return {
    Status: unary(async () => {
      const size = BigInt(server.dbSize());
      return toWire('etcdserverpb.StatusResponse', {
        header: server.header(),
        version: serverVersion,
        dbSize: size,
        leader: server.leader(),
        raftIndex: server.raftIndex(),
        raftTerm: server.term(),
        raftAppliedIndex: server.applied(),
        errors: [],
        dbSizeInUse: size,
        isLearner: server.isLearner(),
        storageVersion: '',
        dbSizeQuota: BigInt(server.opts.quotaBackendBytes),
      });
    }, onUnknown),
    Alarm: unary(async (wire) => {
      const req = wire as { action: number };
      // Alarms (NOSPACE, CORRUPT) are raised by the quota and corruption checks, which are not
      // built yet: none can be active, so GET truthfully lists none; changing them is not built.
      if (req.action !== 0) throw new GrpcError(GrpcCode.Unimplemented, 'alarm activate/deactivate is not implemented in etcdts yet');
      return toWire('etcdserverpb.AlarmResponse', { header: server.header(), alarms: [] });
    }, onUnknown),
  };
}

export function clusterHandlers(server: EtcdServer, onUnknown: (e: unknown) => void): Record<string, UnaryHandler> {
  return {
    MemberList: unary(async () => {
      return toWire('etcdserverpb.MemberListResponse', {
        // Cluster calls do not touch the KV store: etcd leaves the header revision 0.
        header: { ...server.header(), revision: 0n },
        members: server.members.map((m) => ({
          ID: m.id,
          name: m.name,
          peerURLs: m.peerURLs,
          clientURLs: m.clientURLs,
          isLearner: m.isLearner,
        })),
      });
    }, onUnknown),
  };
}

export function healthHandlers(): Record<string, grpc.UntypedHandleCall> {
  return {
    Check: ((call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      // etcd registers the empty service name as SERVING (v3rpc/grpc.go).
      if (call.request.service === '') cb(null, { status: 1 });
      else cb({ code: grpc.status.NOT_FOUND, details: 'unknown service', name: 'Error', message: 'unknown service' }, null);
    }) as grpc.UntypedHandleCall,
  };
}
