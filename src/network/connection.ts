// One client connection: frames in, responses out, strictly in request order.
//
// Requests on a connection are handed to the processor as soon as they are framed and may complete in any
// order; each gets a slot in a FIFO and a response is written only when every earlier slot has been written
// (or has no response, like Produce with acks=0). Reading stops while too many requests are in flight or too
// many response bytes wait to be sent, and resumes when the socket drains: a client that pipelines without
// reading cannot make the broker buffer without bound.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameBudget, FrameReader } from './frame.js';
import { readIntoOwnBuffers } from './own-buffer-reads.js';
import { isStrataError } from '../protocol/strata-error.js';
import { sharedBufferPool } from '../protocol/buffer-pool.js';

export interface ConnectionInfo {
  /** `localHost:localPort-remoteHost:remotePort-index`, as Kafka names connections. */
  readonly id: string;
  readonly listenerName: string;
  readonly securityProtocol: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/** The response to one request: its bytes as a chunk list (size prefix included), or null for none. */
export type FrameResult = readonly Buffer[] | null;

export interface FrameProcessor {
  /**
   * Handles one request frame (without its size prefix). Throwing or rejecting closes the connection:
   * that is how Kafka treats unparseable headers, unknown API keys and malformed bodies.
   */
  process(frame: Buffer, connection: ConnectionInfo): FrameResult | Promise<FrameResult>;
  /** Memory for a request frame of `size` bytes with `apiKey` (see FrameAllocator); plain allocation if absent. */
  allocateFrame?(size: number, apiKey: number): Buffer;
  /** Called once the handling of `frame` has settled, however it ended, so its memory can be recycled. */
  frameDone?(frame: Buffer): void;
  /**
   * Whether every pooled buffer in the response to `frame` holds a reference taken for that response alone
   * (a fetch's file reads and cached tails), to be released once written. Other responses may carry views
   * of pooled memory owned elsewhere, which must not be released.
   */
  responseOwnsPooledBuffers?(frame: Buffer): boolean;
}

export interface ConnectionLimits {
  readonly maxFrameBytes: number;
  /** Close the connection after this long without traffic and with nothing in flight; <= 0 disables. */
  readonly idleMs: number;
  /** Stop reading while this many requests are being handled. */
  readonly maxInFlight: number;
  /** Stop reading while more response bytes than this wait to be sent. */
  readonly maxUnsentBytes: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 100;
export const DEFAULT_MAX_UNSENT_BYTES = 8 * 1024 * 1024;
/**
 * Broker-wide cap on memory allocated for large requests before their bytes have arrived (see frame.ts);
 * past it, requests are gathered as they arrive and copied once complete.
 */
export const DEFAULT_EARLY_FRAME_BYTES = 128 * 1024 * 1024;
const sharedFrameBudget = new FrameBudget(DEFAULT_EARLY_FRAME_BYTES);

/** Memory allocated, across connections, for large requests whose bytes are still arriving. */
export function earlyFrameBytes(): number {
  return sharedFrameBudget.used;
}

interface Slot {
  done: boolean;
  chunks: FrameResult;
  bytes: number;
  /** The request failed: the connection closes once every earlier response is written. */
  fatal: boolean;
  /** Pooled chunks of the response are released once written (see responseOwnsPooledBuffers). */
  releasePooled: boolean;
}

const byteLength = (chunks: FrameResult): number => {
  let n = 0;
  if (chunks !== null) for (const c of chunks) n += c.length;
  return n;
};

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

export class Connection {
  readonly info: ConnectionInfo;
  readonly #socket: Socket;
  readonly #processor: FrameProcessor;
  readonly #limits: ConnectionLimits;
  readonly #log: Logger;
  readonly #reader: FrameReader;
  /** Framed requests not yet handed to the processor because limits were reached. */
  #backlog: Buffer[] = [];
  #backlogHead = 0;
  /** Requests handed to the processor, in arrival order, until their response is written. */
  #slots: Slot[] = [];
  #slotsHead = 0;
  #inFlight = 0;
  /** Bytes of completed responses waiting behind an earlier, incomplete one. */
  #queuedBytes = 0;
  #paused = false;
  #pumping = false;
  /** Responses completed inside the pump loop wait for its end, to be written together. */
  #flushDeferred = false;
  #draining = false;
  /** The socket is being ended: nothing more is written. */
  #ending = false;
  #closed = false;
  readonly #closedPromise: Promise<void>;

  /**
   * `accepted` is read through buffers of the connection's choosing when it was accepted paused (see
   * own-buffer-reads.ts), else through its 'data' events.
   */
  constructor(accepted: Socket, info: ConnectionInfo, processor: FrameProcessor, limits: ConnectionLimits, log: Logger) {
    this.info = info;
    this.#processor = processor;
    this.#limits = limits;
    this.#log = log;
    this.#reader = new FrameReader({
      maxFrameBytes: limits.maxFrameBytes,
      ...(processor.allocateFrame === undefined ? {} : { allocate: (size: number, apiKey: number) => processor.allocateFrame!(size, apiKey) }),
      budget: sharedFrameBudget,
      discard: (frame) => processor.frameDone?.(frame),
    });
    const own = readIntoOwnBuffers(accepted, {
      buffer: () => this.#reader.readBuffer(),
      onRead: (bytes) => this.#onFrames(this.#reader.commit(bytes)),
    });
    const socket = own ?? accepted;
    this.#socket = socket;
    if (own === undefined) {
      socket.on('data', (chunk: Buffer) => this.#onFrames(this.#reader.push(chunk)));
      socket.resume();
    }
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));

    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    if (limits.idleMs > 0) {
      socket.setTimeout(limits.idleMs);
      socket.on('timeout', () => this.#onIdle());
    }
    socket.on('drain', () => this.#pump());
    socket.on('error', (err) => this.#log.debug({ connection: info.id, err }, 'Connection error'));
    socket.once('close', () => {
      this.#closed = true;
      this.#reader.dispose();
      this.#backlog = [];
      this.#slots = [];
    });
  }

  /** Requests handed to the processor whose response has not been produced yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the socket is fully closed. */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Closes at once, dropping anything in flight. */
  destroy(): void {
    this.#socket.destroy();
  }

  /**
   * Graceful close: read no further requests, let the ones in flight finish and their responses flush, then
   * close. After `timeoutMs` the socket is destroyed whatever remains.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#draining = true;
    this.#backlog = [];
    this.#backlogHead = 0;
    this.#socket.pause();
    const timer = setTimeout(() => this.#socket.destroy(), timeoutMs);
    timer.unref();
    this.#maybeEnd();
    await this.#closedPromise;
    clearTimeout(timer);
  }

  #onFrames(frames: Buffer[]): void {
    if (this.#draining || this.#closed) {
      for (const f of frames) this.#processor.frameDone?.(f);
      return;
    }
    for (const f of frames) this.#backlog.push(f);
    const err = this.#reader.error;
    if (err !== undefined) {
      // Kafka logs InvalidReceiveException and closes: a bad size prefix leaves no way to find the next
      // frame. Requests framed before it are still answered, as Kafka answers them before reading on.
      this.#log.warn({ connection: this.info.id, client: this.#client(), err: err.message }, 'Closing connection: invalid request size');
      this.#draining = true;
      this.#socket.pause();
    }
    this.#pump();
    if (this.#draining) this.#maybeEnd();
  }

  /** Hands backlog frames to the processor while limits allow, then pauses or resumes reading. */
  #pump(): void {
    // A request answered synchronously completes inside #dispatch and would pump again from there; the loop
    // already running picks up where it left off instead, so thousands of pipelined requests in one chunk
    // do not nest thousands of calls deep.
    if (this.#closed || this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#backlogHead < this.#backlog.length && !this.#overLimits()) {
        const frame = this.#backlog[this.#backlogHead]!;
        this.#backlog[this.#backlogHead++] = EMPTY;
        this.#dispatch(frame);
        if (this.#closed) return;
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#flushDeferred) {
      this.#flushDeferred = false;
      this.#flush();
      if (this.#closed || this.#ending) return;
    }
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog = [];
      this.#backlogHead = 0;
    }
    if (this.#draining) return;
    const shouldPause = this.#overLimits() || this.#backlogHead < this.#backlog.length;
    if (shouldPause && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    } else if (!shouldPause && this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  #overLimits(): boolean {
    return (
      this.#inFlight >= this.#limits.maxInFlight ||
      this.#queuedBytes + this.#socket.writableLength > this.#limits.maxUnsentBytes
    );
  }

  #dispatch(frame: Buffer): void {
    const slot: Slot = { done: false, chunks: null, bytes: 0, fatal: false, releasePooled: this.#processor.responseOwnsPooledBuffers?.(frame) ?? false };
    this.#slots.push(slot);
    this.#inFlight++;
    let out: FrameResult | Promise<FrameResult>;
    try {
      out = this.#processor.process(frame, this.info);
    } catch (err) {
      this.#processor.frameDone?.(frame);
      this.#fail(slot, err);
      return;
    }
    if (isPromise(out)) {
      out.then(
        (r) => {
          this.#processor.frameDone?.(frame);
          this.#complete(slot, r);
        },
        (err: unknown) => {
          this.#processor.frameDone?.(frame);
          this.#fail(slot, err);
        },
      );
    } else {
      this.#processor.frameDone?.(frame);
      this.#complete(slot, out);
    }
  }

  #complete(slot: Slot, chunks: FrameResult): void {
    if (this.#closed || this.#ending) return;
    this.#inFlight--;
    slot.done = true;
    slot.chunks = chunks;
    slot.bytes = byteLength(chunks);
    this.#queuedBytes += slot.bytes;
    // A request answered synchronously inside the pump loop (a pipelined produce, say) leaves its response
    // to be written with the others of the same read: one write instead of one each, and one wake-up of
    // the client. The loop is bounded by maxUnsentBytes, which counts these responses.
    if (this.#pumping) {
      this.#flushDeferred = true;
      return;
    }
    this.#flush();
    this.#pump();
    if (this.#draining) this.#maybeEnd();
  }

  /** Writes every completed response at the head of the queue; stops at the first incomplete one. */
  #flush(): void {
    let corked = false;
    while (this.#slotsHead < this.#slots.length && this.#slots[this.#slotsHead]!.done) {
      const slot = this.#slots[this.#slotsHead]!;
      if (slot.fatal) {
        if (corked) this.#socket.uncork();
        this.#end();
        return;
      }
      this.#slots[this.#slotsHead++] = DONE_SLOT;
      if (slot.chunks === null) continue;
      if (!corked) {
        this.#socket.cork();
        corked = true;
      }
      // Chunks are written by reference: a large records buffer is handed to the kernel without a copy. A
      // pooled one (a file read or cached log tail, retained for this response) is released once written.
      for (const c of slot.chunks) {
        if (slot.releasePooled && sharedBufferPool.isPooled(c)) this.#socket.write(c, () => sharedBufferPool.release(c));
        else this.#socket.write(c);
      }
      this.#queuedBytes -= slot.bytes;
    }
    if (corked) this.#socket.uncork();
    if (this.#slotsHead === this.#slots.length) {
      this.#slots = [];
      this.#slotsHead = 0;
    }
  }

  /**
   * A request that cannot be served closes the connection, as Kafka closes it. Responses to the requests
   * before it are still written (Kafka, answering one request at a time, would have sent them already);
   * nothing after it is read or answered.
   */
  #fail(slot: Slot, err: unknown): void {
    if (this.#closed || this.#ending) return;
    // Decode errors are the client's fault; anything else is ours, but either way only this connection pays.
    const level = isStrataError(err) ? 'warn' : 'error';
    this.#log[level]({ connection: this.info.id, client: this.#client(), err: errorText(err) }, 'Closing connection');
    this.#inFlight--;
    slot.done = true;
    slot.fatal = true;
    this.#draining = true;
    this.#backlog = [];
    this.#backlogHead = 0;
    this.#socket.pause();
    this.#flush();
  }

  #client(): string {
    return `${this.info.remoteAddress}:${this.info.remotePort}`;
  }

  #onIdle(): void {
    if (this.#inFlight > 0 || this.#slotsHead < this.#slots.length) return;
    this.#log.debug({ connection: this.info.id }, 'Closing idle connection');
    this.#socket.destroy();
  }

  #maybeEnd(): void {
    if (this.#closed || this.#inFlight > 0 || this.#slotsHead < this.#slots.length || this.#backlogHead < this.#backlog.length) return;
    this.#end();
  }

  /** Flushes what is buffered, sends FIN, then closes without waiting for the peer's FIN. */
  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#socket.destroySoon();
  }
}

const EMPTY = Buffer.alloc(0);
const DONE_SLOT: Slot = { done: true, chunks: null, bytes: 0, fatal: false, releasePooled: false };

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
