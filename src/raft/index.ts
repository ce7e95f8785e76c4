/** The Raft core's public surface: import from here outside src/raft. */
export * from './types.js';
export * from './errors.js';
export { type RaftStorage, type InitialState, MemoryStorage, emptySnapshot } from './storage.js';
export { type RaftConfig, type ProgressStatus, maxSizePerMsgDefault, maxInflightMsgsDefault } from './raft.js';
export { ProgressState } from './progress.js';
export { RawNode, type RawNodeConfig, type Ready, type Status } from './raw-node.js';
