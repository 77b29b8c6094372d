// Socket reads into caller-chosen memory for accepted connections.
//
// Node supports this (`onread` with a buffer-choosing function: each read lands where the function says,
// and no per-read allocation is made), but only for sockets constructed by the caller, and net.Server
// constructs the ones it accepts. So the accepted socket's handle is moved into a socket constructed with
// `onread`: the server must have been created with `pauseOnConnect`, so that nothing was read yet, and the
// original socket is destroyed after its handle was taken from it, which leaves the descriptor open.
//
// `_handle` and the `handle` constructor option are not public API, so their presence is checked and the
// caller falls back to plain 'data' events when they are missing.
import { Socket } from 'node:net';

interface HandleHolder {
  _handle?: { readonly useUserBuffer?: unknown; readonly constructor?: { readonly name?: string } } | null;
}

export interface OwnBufferReads {
  /** Where the next read should land; called once at the start and after every read. */
  readonly buffer: () => Buffer;
  /** `bytes` were read into the buffer last returned. Returning false stops reading (resume() restarts it). */
  readonly onRead: (bytes: number) => boolean | void;
}

/** A socket that reads as `reads` says, in place of `accepted`; undefined if this Node cannot. */
export function readIntoOwnBuffers(accepted: Socket, reads: OwnBufferReads): Socket | undefined {
  const holder = accepted as unknown as HandleHolder;
  const handle = holder._handle;
  // Only a plain TCP handle: a TLS socket's reads must go through its decryption first.
  if (handle === null || handle === undefined || handle.constructor?.name !== 'TCP' || typeof handle.useUserBuffer !== 'function') return undefined;
  // Reading must not have started: bytes already taken would be lost to the new socket.
  if (accepted.readableFlowing !== false) return undefined;
  holder._handle = null;
  accepted.destroy();
  const socket = new Socket({
    handle,
    readable: true,
    writable: true,
    onread: { buffer: reads.buffer, callback: reads.onRead },
  } as ConstructorParameters<typeof Socket>[0]);
  // The readable side carries no data, but only a flowing stream reports the peer's end ('end', then
  // 'close' since half-open sockets are not allowed).
  socket.resume();
  return socket;
}
