// The cleaner's dedupe map: key → the latest offset seen for it, in one preallocated buffer so memory
// use is fixed by `log.cleaner.dedupe.buffer.size` however many keys a log holds. Like Kafka's
// SkimpyOffsetMap it stores only an MD5 digest of each key (16 bytes) and the offset (8 bytes) per slot
// with open addressing; a digest collision between two distinct keys is astronomically unlikely and would
// at worst drop the older of the two records early.
import crypto from 'node:crypto';
import { readInt64, writeInt64 } from '../../protocol/records/batch-header.js';
import { StrataError } from '../../protocol/strata-error.js';

const HASH_SIZE = 16;
const BYTES_PER_ENTRY = HASH_SIZE + 8;

export interface OffsetMapOptions {
  /** Bytes of the slot buffer (the per-thread share of `log.cleaner.dedupe.buffer.size`). */
  readonly memory: number;
  /** `log.cleaner.io.buffer.load.factor`: how full the map may get before a pass stops adding keys. */
  readonly loadFactor?: number;
}

export class OffsetMap {
  readonly slots: number;
  /** Allocated on first use, so a broker that never compacts never pays for the buffer. */
  #buffer: Buffer | undefined;
  readonly #maxDesiredSize: number;
  #entries = 0;
  #latestOffset = -1;
  #dirty = false;
  #lookups = 0;
  #probes = 0;

  constructor(options: OffsetMapOptions) {
    const slots = Math.floor(options.memory / BYTES_PER_ENTRY);
    if (slots < 1) throw new StrataError('ERR_CONFIG', `offset map memory ${options.memory} holds no entry`);
    const loadFactor = options.loadFactor ?? 0.9;
    if (!(loadFactor > 0 && loadFactor <= 1)) throw new StrataError('ERR_CONFIG', `bad load factor ${loadFactor}`);
    this.slots = slots;
    this.#maxDesiredSize = Math.max(1, Math.floor(slots * loadFactor));
  }

  get #bytes(): Buffer {
    this.#buffer ??= Buffer.alloc(this.slots * BYTES_PER_ENTRY);
    return this.#buffer;
  }

  get size(): number {
    return this.#entries;
  }

  /** The number of keys a pass may add before the map counts as full. */
  get maxDesiredSize(): number {
    return this.#maxDesiredSize;
  }

  get isFull(): boolean {
    return this.#entries >= this.#maxDesiredSize;
  }

  /** The last offset the map has been built up to (-1 when empty); the cleaned range ends after it. */
  get latestOffset(): number {
    return this.#latestOffset;
  }

  /** Average probes per lookup, for the cleaner's statistics. */
  get collisionRate(): number {
    return this.#lookups === 0 ? 0 : (this.#probes - this.#lookups) / this.#lookups;
  }

  updateLatestOffset(offset: number): void {
    if (offset > this.#latestOffset) this.#latestOffset = offset;
  }

  clear(): void {
    if (this.#dirty) this.#buffer?.fill(0);
    this.#entries = 0;
    this.#latestOffset = -1;
    this.#dirty = false;
    this.#lookups = 0;
    this.#probes = 0;
  }

  /** Records `offset` as the latest for `key`; a later put for the same key replaces it. */
  put(key: Uint8Array, offset: number): void {
    const hash = digest(key);
    this.#lookups++;
    for (let attempt = 0; ; attempt++) {
      this.#probes++;
      const pos = this.#positionOf(hash, attempt);
      if (this.#isEmpty(pos)) {
        if (this.#entries >= this.slots) {
          throw new StrataError('ERR_STATE', 'offset map is full');
        }
        hash.copy(this.#bytes, pos);
        writeInt64(this.#bytes, pos + HASH_SIZE, offset);
        this.#entries++;
        this.#dirty = true;
        break;
      }
      if (this.#bytes.compare(hash, 0, HASH_SIZE, pos, pos + HASH_SIZE) === 0) {
        writeInt64(this.#bytes, pos + HASH_SIZE, offset);
        break;
      }
      if (attempt > this.slots + HASH_SIZE) throw new StrataError('ERR_STATE', 'offset map is full');
    }
    this.updateLatestOffset(offset);
  }

  /** The latest offset recorded for `key`, or -1. */
  get(key: Uint8Array): number {
    const hash = digest(key);
    this.#lookups++;
    for (let attempt = 0; attempt <= this.slots + HASH_SIZE; attempt++) {
      this.#probes++;
      const pos = this.#positionOf(hash, attempt);
      if (this.#isEmpty(pos)) return -1;
      if (this.#bytes.compare(hash, 0, HASH_SIZE, pos, pos + HASH_SIZE) === 0) {
        return readInt64(this.#bytes, pos + HASH_SIZE);
      }
    }
    return -1;
  }

  // Probing walks a window over the digest's bytes first (cheap, well spread), then steps linearly.
  #positionOf(hash: Buffer, attempt: number): number {
    const window = Math.min(attempt, HASH_SIZE - 4);
    const probe = (hash.readInt32BE(window) & 0x7fffffff) + Math.max(0, attempt - HASH_SIZE + 4);
    return (probe % this.slots) * BYTES_PER_ENTRY;
  }

  // A slot of all zero bytes is free; a real digest plus offset is never all zeros in practice.
  #isEmpty(pos: number): boolean {
    for (let i = 0; i < BYTES_PER_ENTRY; i += 4) if (this.#bytes.readInt32BE(pos + i) !== 0) return false;
    return true;
  }
}

// The one-shot crypto.hash (Node ≥ 20.12) skips the Hash object per key, which halves the cost.
type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

const digest: (key: Uint8Array) => Buffer = oneShot
  ? (key) => oneShot('md5', key, 'buffer')
  : (key) => crypto.createHash('md5').update(key).digest();
