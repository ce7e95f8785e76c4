/** etcd v3 client: see client.ts. */
export { EtcdClient, type ClientOptions, type RetryWarning } from './client.js';
export { ClientError, goCodeName, goStatusText, deadlineText } from './errors.js';
export { parseEndpoint, splitEndpoints, type Endpoint } from './endpoints.js';
export type * from './types.js';
export { WatchSession, isProgressNotify, type WatchRequestOptions, type WatchResponseView, type WatchHandle } from './watch.js';
