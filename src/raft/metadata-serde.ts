// KRaft's metadata record framing as record values: frame version, record type and record version as
// unsigned varints, then the record body (protocol/generated/metadata-records.ts). Keys are null.
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from '../protocol/generated/metadata-records.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import type { RecordSerde } from './raft-client.js';

export const metadataRecordSerde: RecordSerde<MetadataRecord> = {
  write(record: MetadataRecord): Buffer {
    const w = new Writer(64);
    encodeMetadataRecord(w, record);
    return w.toBuffer();
  },
  read(value: Buffer): MetadataRecord {
    const r = new Reader(value);
    const record = decodeMetadataRecord(r);
    r.ensureEnd('metadata record');
    return record;
  },
};
