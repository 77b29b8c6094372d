// Metadata snapshots, in Kafka's KRaft format: `<endOffset:20>-<epoch:10>.checkpoint` in the partition
// directory, holding v2 record batches: a control batch with a SnapshotHeaderRecord, data batches of
// framed records (the state as of `endOffset`, exclusive), and a control batch with a
// SnapshotFooterRecord. A file is written as `.checkpoint.part`, fsynced and renamed, so a crash never
// leaves a partial snapshot under the final name; a file without its footer is refused on reading.
import fs from 'node:fs/promises';
import path from 'node:path';
import { encodeSnapshotFooterRecord } from '../protocol/generated/data/snapshot-footer-record.js';
import { encodeSnapshotHeaderRecord } from '../protocol/generated/data/snapshot-header-record.js';
import { isControl } from '../protocol/records/batch-header.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { buildBatchSync } from '../protocol/records/builder.js';
import { ControlRecordType, decodeControlRecordKey, encodeControlRecordKey } from '../protocol/records/record.js';
import { StrataError } from '../protocol/strata-error.js';
import { Writer } from '../protocol/writer.js';
import { fsyncDir } from '../storage/file-handles.js';
import type { RecordSerde } from './raft-client.js';

import type { SnapshotId } from './raft-client.js';

export type { SnapshotId };

export interface SnapshotStore {
  /** The newest complete snapshot, if any. */
  latest(): Promise<SnapshotId | undefined>;
  read(id: SnapshotId): Promise<Buffer>;
  /** Stores a snapshot durably and removes older ones. */
  write(id: SnapshotId, bytes: Buffer): Promise<void>;
}

const SUFFIX = '.checkpoint';
const PART = '.part';
const NAME = /^(\d{20})-(\d{10})\.checkpoint$/;

export const snapshotFileName = (id: SnapshotId): string =>
  `${String(id.endOffset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}${SUFFIX}`;

const compareIds = (a: SnapshotId, b: SnapshotId): number => a.endOffset - b.endOffset || a.epoch - b.epoch;

/** Records per data batch: keeps batches well under the 8 MiB limit for ordinary metadata. */
const RECORDS_PER_BATCH = 1000;

function controlBatch(type: number, value: Buffer, baseOffset: number, timestamp: number): Buffer {
  return buildBatchSync([{ key: encodeControlRecordKey(type), value }], { baseOffset, timestamp, control: true });
}

/** A whole snapshot file's content for `records`. */
export function buildSnapshot<T>(records: readonly T[], serde: RecordSerde<T>, opts: { lastContainedLogTimestamp: number; timestamp: number }): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const header = new Writer(16);
  encodeSnapshotHeaderRecord(header, 0, { version: 0, lastContainedLogTimestamp: BigInt(opts.lastContainedLogTimestamp) });
  parts.push(controlBatch(ControlRecordType.SNAPSHOT_HEADER, header.toBuffer(), offset++, opts.timestamp));
  for (let i = 0; i < records.length; i += RECORDS_PER_BATCH) {
    const chunk = records.slice(i, i + RECORDS_PER_BATCH);
    parts.push(buildBatchSync(chunk.map((r) => ({ key: null, value: serde.write(r) })), { baseOffset: offset, timestamp: opts.timestamp }));
    offset += chunk.length;
  }
  const footer = new Writer(8);
  encodeSnapshotFooterRecord(footer, 0, { version: 0 });
  parts.push(controlBatch(ControlRecordType.SNAPSHOT_FOOTER, footer.toBuffer(), offset, opts.timestamp));
  return Buffer.concat(parts);
}

/** The records of a snapshot file; refuses one that does not start with a header and end with a footer. */
export async function readSnapshot<T>(bytes: Buffer, serde: RecordSerde<T>): Promise<T[]> {
  const out: T[] = [];
  let sawHeader = false;
  let sawFooter = false;
  let end = 0;
  for (const b of iterateBatches(bytes)) {
    end = b.position + b.size;
    if (sawFooter) throw new StrataError('ERR_CORRUPT_FILE', 'snapshot: batches after the footer');
    const decoded = await decodeBatchRecords(bytes, b);
    if (isControl(b.header.attributes)) {
      for (const r of decoded) {
        const type = decodeControlRecordKey(r.key).type;
        if (type === ControlRecordType.SNAPSHOT_HEADER) {
          if (sawHeader || out.length > 0) throw new StrataError('ERR_CORRUPT_FILE', 'snapshot: misplaced header');
          sawHeader = true;
        } else if (type === ControlRecordType.SNAPSHOT_FOOTER) {
          sawFooter = true;
        }
      }
      continue;
    }
    if (!sawHeader) throw new StrataError('ERR_CORRUPT_FILE', 'snapshot: data before the header');
    for (const r of decoded) {
      if (r.value === null) throw new StrataError('ERR_CORRUPT_FILE', 'snapshot: a record without a value');
      out.push(serde.read(r.value));
    }
  }
  if (!sawHeader || !sawFooter || end !== bytes.length) throw new StrataError('ERR_CORRUPT_FILE', 'snapshot: incomplete (no header, no footer or a torn batch)');
  return out;
}

export class FileSnapshotStore implements SnapshotStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async #ids(): Promise<SnapshotId[]> {
    const names = await fs.readdir(this.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    const ids: SnapshotId[] = [];
    for (const name of names) {
      const m = NAME.exec(name);
      if (m) ids.push({ endOffset: Number(m[1]), epoch: Number(m[2]) });
    }
    return ids.sort(compareIds);
  }

  async latest(): Promise<SnapshotId | undefined> {
    const ids = await this.#ids();
    return ids[ids.length - 1];
  }

  read(id: SnapshotId): Promise<Buffer> {
    return fs.readFile(path.join(this.dir, snapshotFileName(id)));
  }

  async write(id: SnapshotId, bytes: Buffer): Promise<void> {
    const final = path.join(this.dir, snapshotFileName(id));
    const part = final + PART;
    const fh = await fs.open(part, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(part, final);
    await fsyncDir(this.dir);
    for (const old of await this.#ids()) {
      if (compareIds(old, id) < 0) await fs.rm(path.join(this.dir, snapshotFileName(old)), { force: true });
    }
    // A `.part` left by a crash is never read; clear any.
    for (const name of await fs.readdir(this.dir)) {
      if (name.endsWith(SUFFIX + PART) && name !== path.basename(part)) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }
}

export class MemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, { id: SnapshotId; bytes: Buffer }>();

  latest(): Promise<SnapshotId | undefined> {
    const ids = [...this.#snapshots.values()].map((s) => s.id).sort(compareIds);
    return Promise.resolve(ids[ids.length - 1]);
  }

  read(id: SnapshotId): Promise<Buffer> {
    const s = this.#snapshots.get(snapshotFileName(id));
    return s ? Promise.resolve(s.bytes) : Promise.reject(new StrataError('ERR_STORAGE', `no snapshot ${snapshotFileName(id)}`));
  }

  write(id: SnapshotId, bytes: Buffer): Promise<void> {
    for (const [k, s] of this.#snapshots) if (compareIds(s.id, id) < 0) this.#snapshots.delete(k);
    this.#snapshots.set(snapshotFileName(id), { id, bytes: Buffer.from(bytes) });
    return Promise.resolve();
  }
}
