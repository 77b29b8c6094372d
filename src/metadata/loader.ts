// The metadata loader turns committed batches of the metadata log into images and hands them to
// publishers. While the log is being replayed at start-up the batches are folded into one delta and
// published once replay is complete, so a long log does not publish thousands of intermediate images.
//
// The loader does not know about Raft: it accepts anything shaped like a committed batch, which is what
// the Raft client's listener callbacks deliver (see raft/raft-client.ts).
import { StrataError } from '../protocol/strata-error.js';
import { changesOfWholeImage, MetadataDelta } from './delta.js';
import { MetadataImage } from './image.js';
import type { MetadataPublisher } from './publisher.js';
import type { MetadataRecord } from './records.js';

export interface CommittedMetadataBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The leader epoch the batch was written in. */
  readonly epoch: number;
  readonly records: readonly MetadataRecord[];
}

export interface MetadataLoaderOptions {
  readonly clusterId: string;
  /** Told when a publisher throws; the loader carries on with the others (default: ignore). */
  readonly onPublisherError?: (publisher: MetadataPublisher, error: unknown) => void;
}

export class MetadataLoader {
  readonly #publishers: MetadataPublisher[] = [];
  readonly #onPublisherError: (publisher: MetadataPublisher, error: unknown) => void;
  #image: MetadataImage;
  /** Replayed but not yet published (start-up catch-up). */
  #pending: MetadataDelta | undefined;
  #pendingProvenance = { offset: -1, epoch: -1 };
  #caughtUp = false;
  /** Publishing is strictly ordered: each publication waits for the previous one. */
  #publishing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: MetadataLoaderOptions) {
    this.#image = MetadataImage.empty(opts.clusterId);
    this.#onPublisherError = opts.onPublisherError ?? (() => undefined);
  }

  /** The latest published image (or, during catch-up, the last one published before it). */
  get image(): MetadataImage {
    return this.#image;
  }

  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** Adds a publisher; if the image already holds data, the publisher first receives all of it. */
  installPublisher(publisher: MetadataPublisher): Promise<void> {
    this.#publishers.push(publisher);
    const image = this.#image;
    if (image.isEmpty || !this.#caughtUp) return this.#publishing;
    return this.#enqueue(() => this.#call(publisher, { kind: 'install', changes: changesOfWholeImage(image), previous: MetadataImage.empty(image.clusterId) }, image));
  }

  removePublisher(publisher: MetadataPublisher): void {
    const i = this.#publishers.indexOf(publisher);
    if (i >= 0) this.#publishers.splice(i, 1);
  }

  /** Applies one committed batch; publishes at once unless start-up replay is still running. */
  handleCommit(batch: CommittedMetadataBatch): Promise<void> {
    if (this.#closed) return Promise.reject(new StrataError('ERR_STATE', 'metadata loader is closed'));
    const delta = this.#pending ?? new MetadataDelta(this.#image);
    for (const r of batch.records) delta.replay(r);
    const provenance = { offset: batch.lastOffset, epoch: batch.epoch };
    if (!this.#caughtUp) {
      this.#pending = delta;
      this.#pendingProvenance = provenance;
      return this.#publishing;
    }
    return this.#publishDelta(delta, provenance);
  }

  /**
   * Replaces the state with a snapshot's (records that rebuild it from nothing). Only during start-up
   * replay: the snapshot and the batches after it are then published as one update.
   */
  handleLoadSnapshot(snapshot: { readonly id: { readonly endOffset: number; readonly epoch: number }; readonly records: readonly MetadataRecord[] }): Promise<void> {
    if (this.#caughtUp) return Promise.reject(new StrataError('ERR_STATE', 'a snapshot can only be loaded before catch-up completes'));
    const delta = new MetadataDelta(MetadataImage.empty(this.#image.clusterId));
    for (const r of snapshot.records) delta.replay(r);
    this.#pending = delta;
    this.#pendingProvenance = { offset: snapshot.id.endOffset - 1, epoch: snapshot.id.epoch };
    return this.#publishing;
  }

  /** The end of start-up replay: publishes everything replayed so far as one update. */
  handleCatchUpComplete(): Promise<void> {
    this.#caughtUp = true;
    const delta = this.#pending;
    this.#pending = undefined;
    if (delta === undefined) return this.#publishing;
    return this.#publishDelta(delta, this.#pendingProvenance);
  }

  /** Resolves when every update handed to publishers so far has been processed. */
  idle(): Promise<void> {
    return this.#publishing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#publishing;
    for (const p of this.#publishers) {
      try {
        await p.close?.();
      } catch (e) {
        this.#onPublisherError(p, e);
      }
    }
  }

  #publishDelta(delta: MetadataDelta, provenance: { offset: number; epoch: number }): Promise<void> {
    const previous = this.#image;
    const image = delta.apply(provenance);
    const changes = delta.changes;
    this.#image = image;
    const publishers = [...this.#publishers];
    return this.#enqueue(async () => {
      for (const p of publishers) await this.#call(p, { kind: 'log', changes, previous }, image);
    });
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    this.#publishing = this.#publishing.then(fn);
    return this.#publishing;
  }

  async #call(p: MetadataPublisher, update: Parameters<MetadataPublisher['onMetadataUpdate']>[0], image: MetadataImage): Promise<void> {
    try {
      await p.onMetadataUpdate(update, image);
    } catch (e) {
      this.#onPublisherError(p, e);
    }
  }
}
