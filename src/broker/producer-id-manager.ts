// Producer ids for idempotent producers, handed out from blocks the controller allocates (Kafka's
// RPCProducerIdManager). A block is recorded in the metadata log before it is used, so no id is ever
// handed out twice, even across restarts: a restarted broker asks for a fresh block and the ids left in
// its old one are simply never used. The next block is fetched in the background once 90% of the
// current one is used, so producers rarely wait for the controller.
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import type { ControllerApi } from './controller-api.js';

/** Thrown when no producer id can be handed out now; carries the Kafka error to answer with. */
export class ProducerIdUnavailable extends StrataError {
  constructor(readonly errorCode: number, message: string, options?: { cause?: unknown }) {
    super('ERR_STATE', message, options);
  }
}

export interface ProducerIdSource {
  /** The next unused producer id. */
  generate(): Promise<number>;
}

export interface ProducerIdManagerOptions {
  readonly controller: Pick<ControllerApi, 'allocateProducerIds'>;
  readonly nodeId: number;
  /** This broker's current registration epoch (read at every allocation). */
  readonly brokerEpoch: () => number;
}

interface Block {
  next: number;
  readonly end: number;
  readonly prefetchAt: number;
}

export class ProducerIdManager implements ProducerIdSource {
  readonly #opts: ProducerIdManagerOptions;
  #current: Block | undefined;
  /** Allocated blocks not yet in use, oldest first (each allocation adds its block here exactly once). */
  readonly #ready: Block[] = [];
  /** The allocation in flight, shared by every caller waiting for it. */
  #inFlight: Promise<void> | undefined;

  constructor(opts: ProducerIdManagerOptions) {
    this.#opts = opts;
  }

  async generate(): Promise<number> {
    for (;;) {
      const block = this.#current;
      if (block !== undefined && block.next < block.end) {
        const id = block.next++;
        if (id >= block.prefetchAt && this.#ready.length === 0 && this.#inFlight === undefined) {
          // Failures are left for the caller that actually needs the block: it asks again.
          this.#allocate().catch(() => undefined);
        }
        return id;
      }
      const next = this.#ready.shift();
      if (next !== undefined) {
        this.#current = next;
        continue;
      }
      await this.#allocate();
    }
  }

  #allocate(): Promise<void> {
    this.#inFlight ??= (async (): Promise<void> => {
      try {
        const r = await this.#opts.controller.allocateProducerIds(this.#opts.nodeId, this.#opts.brokerEpoch());
        if (r.errorCode !== ErrorCode.NONE || r.producerIdLen <= 0) {
          // Kafka's broker answers a client with a retriable error while it has no block.
          throw new ProducerIdUnavailable(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
            `no producer id block: ${r.errorMessage ?? `error ${r.errorCode}`}`);
        }
        const start = r.producerIdStart;
        this.#ready.push({ next: start, end: start + r.producerIdLen, prefetchAt: start + Math.floor(r.producerIdLen * 0.9) });
      } catch (e) {
        if (e instanceof ProducerIdUnavailable) throw e;
        throw new ProducerIdUnavailable(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
          `producer id allocation failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      } finally {
        this.#inFlight = undefined;
      }
    })();
    return this.#inFlight;
  }
}
