// Incremental fetch sessions (KIP-227), as Kafka's FetchSession.scala. A client opens a session with a
// full fetch (epoch 0) and then sends only what changed (epoch 1, 2, ...): partitions added or updated,
// partitions forgotten. The broker reads every partition of the session but answers only those with
// something new (records, an error, or a moved high watermark, last stable or log start offset).
//
// Request metadata:  sessionId 0 / epoch -1 → no session;  any id / epoch 0 → (close that one and) open a
// new one;  id / epoch -1 → close it, no session;  id / epoch > 0 → incremental on that session.
// The cache holds at most `max.incremental.fetch.session.cache.slots` sessions; when full, a session unused
// for `evictionMs` makes room, or a follower's session displaces a consumer's least recently used one.
import { ErrorCode } from '../protocol/errors.js';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
/** Kafka's max.incremental.fetch.session.cache.slots default. */
export const DEFAULT_SESSION_CACHE_SLOTS = 1000;
/** Kafka's min.incremental.fetch.session.eviction.ms (not configurable in 3.9). */
export const DEFAULT_SESSION_EVICTION_MS = 120_000;

/** One partition as a fetch request names it. `topicId` is the zero UUID before Fetch v13. */
export interface FetchRequestPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly lastFetchedEpoch: number;
  readonly logStartOffset: number;
}

export interface ForgottenPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
}

/** A session partition: what to fetch, and what the client was last told (for incremental answers). */
export interface CachedPartition {
  topic: string;
  readonly topicId: string;
  readonly partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  responseLogStartOffset: number;
}

/** What the answer for one partition says, as far as the session cares. */
export interface PartitionResponseSummary {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  readonly recordBytes: number;
  /** A diverging epoch was reported (followers must hear it). */
  readonly diverging?: boolean;
}

export class FetchSession {
  readonly id: number;
  readonly privileged: boolean;
  readonly usesTopicIds: boolean;
  epoch: number;
  lastUsedMs: number;
  readonly partitions = new Map<string, CachedPartition>();

  constructor(id: number, privileged: boolean, usesTopicIds: boolean, now: number) {
    this.id = id;
    this.privileged = privileged;
    this.usesTopicIds = usesTopicIds;
    this.epoch = nextEpoch(INITIAL_EPOCH);
    this.lastUsedMs = now;
  }
}

export type FetchContext =
  /** Read `partitions` and answer all of them; `session` when one was opened for the client. */
  | { readonly kind: 'full'; readonly partitions: readonly CachedPartition[]; readonly session: FetchSession | undefined }
  /** Read every partition of the session; answer only those that changed. */
  | { readonly kind: 'incremental'; readonly partitions: readonly CachedPartition[]; readonly session: FetchSession }
  /** The request is refused as a whole with `errorCode`. */
  | { readonly kind: 'error'; readonly errorCode: number };

export const nextEpoch = (epoch: number): number => (epoch < 0 ? epoch : epoch === 0x7fffffff ? 1 : epoch + 1);

const keyOf = (usesTopicIds: boolean, p: { topic: string; topicId: string; partition: number }): string =>
  `${usesTopicIds ? p.topicId : p.topic}:${p.partition}`;

function cached(p: FetchRequestPartition): CachedPartition {
  return {
    topic: p.topic,
    topicId: p.topicId,
    partition: p.partition,
    fetchOffset: p.fetchOffset,
    partitionMaxBytes: p.partitionMaxBytes,
    currentLeaderEpoch: p.currentLeaderEpoch,
    lastFetchedEpoch: p.lastFetchedEpoch,
    logStartOffset: p.logStartOffset,
    highWatermark: -1,
    lastStableOffset: -1,
    responseLogStartOffset: -1,
  };
}

export interface FetchSessionCacheOptions {
  readonly maxSlots?: number;
  readonly evictionMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface NewContextRequest {
  readonly sessionId: number;
  readonly sessionEpoch: number;
  readonly partitions: readonly FetchRequestPartition[];
  readonly forgotten: readonly ForgottenPartition[];
  /** Fetch v13+: topics are named by id. */
  readonly usesTopicIds: boolean;
  /** A follower's fetch: its sessions outrank consumers' when the cache is full. */
  readonly privileged: boolean;
}

export class FetchSessionCache {
  readonly maxSlots: number;
  readonly #evictionMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sessions = new Map<number, FetchSession>();

  constructor(opts: FetchSessionCacheOptions = {}) {
    this.maxSlots = opts.maxSlots ?? DEFAULT_SESSION_CACHE_SLOTS;
    this.#evictionMs = opts.evictionMs ?? DEFAULT_SESSION_EVICTION_MS;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: number): FetchSession | undefined {
    return this.#sessions.get(id);
  }

  remove(id: number): boolean {
    return this.#sessions.delete(id);
  }

  /** Kafka's FetchManager.newContext: decides what this request reads and how it is answered. */
  newContext(req: NewContextRequest): FetchContext {
    const now = this.#now();
    if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
      if (req.sessionId !== INVALID_SESSION_ID) this.#sessions.delete(req.sessionId);
      const byKey = new Map<string, CachedPartition>();
      for (const p of req.partitions) byKey.set(keyOf(req.usesTopicIds, p), cached(p));
      const session = req.sessionEpoch === INITIAL_EPOCH ? this.#maybeCreate(req, byKey, now) : undefined;
      return { kind: 'full', partitions: [...byKey.values()], session };
    }
    const session = this.#sessions.get(req.sessionId);
    if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== req.sessionEpoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    if (session.usesTopicIds !== req.usesTopicIds) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    for (const p of req.partitions) {
      const key = keyOf(session.usesTopicIds, p);
      const existing = session.partitions.get(key);
      if (existing === undefined) {
        session.partitions.set(key, cached(p));
      } else {
        existing.topic = p.topic;
        existing.fetchOffset = p.fetchOffset;
        existing.partitionMaxBytes = p.partitionMaxBytes;
        existing.currentLeaderEpoch = p.currentLeaderEpoch;
        existing.lastFetchedEpoch = p.lastFetchedEpoch;
        existing.logStartOffset = p.logStartOffset;
      }
    }
    for (const f of req.forgotten) session.partitions.delete(keyOf(session.usesTopicIds, f));
    session.epoch = nextEpoch(session.epoch);
    session.lastUsedMs = now;
    return { kind: 'incremental', partitions: [...session.partitions.values()], session };
  }

  /**
   * After the read: records what each partition's answer told the client and returns, for each, whether
   * it belongs in the response (always for full contexts; only changes for incremental ones).
   */
  static settle(context: Exclude<FetchContext, { kind: 'error' }>, summaries: readonly PartitionResponseSummary[]): boolean[] {
    return context.partitions.map((p, i) => {
      const s = summaries[i]!;
      let changed = context.kind === 'full' || s.recordBytes > 0 || s.errorCode !== ErrorCode.NONE || s.diverging === true;
      if (p.highWatermark !== s.highWatermark || p.lastStableOffset !== s.lastStableOffset || p.responseLogStartOffset !== s.logStartOffset) {
        changed = true;
      }
      // After an error the next good answer must go out whatever it says.
      p.highWatermark = s.errorCode === ErrorCode.NONE ? s.highWatermark : -1;
      p.lastStableOffset = s.lastStableOffset;
      p.responseLogStartOffset = s.logStartOffset;
      return changed;
    });
  }

  #maybeCreate(req: NewContextRequest, partitions: Map<string, CachedPartition>, now: number): FetchSession | undefined {
    if (this.maxSlots <= 0) return undefined;
    if (this.#sessions.size >= this.maxSlots && !this.#evictOne(req.privileged, now)) return undefined;
    const session = new FetchSession(this.#newId(), req.privileged, req.usesTopicIds, now);
    for (const [k, p] of partitions) session.partitions.set(k, p);
    this.#sessions.set(session.id, session);
    return session;
  }

  /** Makes room: a stale session first; else, for a follower, the least recently used consumer session. */
  #evictOne(privileged: boolean, now: number): boolean {
    let stale: FetchSession | undefined;
    let lruConsumer: FetchSession | undefined;
    for (const s of this.#sessions.values()) {
      if (now - s.lastUsedMs > this.#evictionMs && (stale === undefined || s.lastUsedMs < stale.lastUsedMs)) stale = s;
      if (!s.privileged && (lruConsumer === undefined || s.lastUsedMs < lruConsumer.lastUsedMs)) lruConsumer = s;
    }
    const victim = stale ?? (privileged ? lruConsumer : undefined);
    if (victim === undefined) return false;
    this.#sessions.delete(victim.id);
    return true;
  }

  #newId(): number {
    for (;;) {
      const id = 1 + Math.floor(this.#random() * 0x7ffffffe);
      if (!this.#sessions.has(id)) return id;
    }
  }
}
