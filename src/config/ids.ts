/** Member and cluster ids as etcd computes them (the code lives in base/, shared with server/). */
export { computeClusterId, computeMemberId } from '../base/etcd-ids.js';
