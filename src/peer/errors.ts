/**
 * Operating errors of the peer transport, narrowed with instanceof by the server.
 */

/** A peer URL could not be bound (port taken, unsupported scheme). */
export class PeerListenError extends Error {
  override name = 'PeerListenError';
}

/** The peer's onRequest rejected; `message` is the peer's message. */
export class PeerRequestError extends Error {
  override name = 'PeerRequestError';
}

/** The peer could not be reached in time, refused us, or is unknown/removed here. */
export class PeerUnavailableError extends Error {
  override name = 'PeerUnavailableError';
  constructor(
    message: string,
    /** True when the peer answered but refused our identity (wrong cluster, removed, ...). */
    readonly refused = false,
  ) {
    super(message);
  }
}
