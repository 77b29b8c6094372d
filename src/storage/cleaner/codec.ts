// The compression the cleaner needs to rewrite compressed batches with their original codec; an
// interface so tests can count or fail calls, backed by the protocol layer's codecs.
import { DEFAULT_MAX_DECODED_BYTES } from '../../protocol/records/batch-records.js';
import { compress, decompress } from '../../protocol/records/compression.js';

export interface RecordsCodec {
  decompress(compression: number, data: Buffer): Promise<Buffer>;
  compress(compression: number, data: Buffer): Promise<Buffer>;
}

export const defaultRecordsCodec: RecordsCodec = {
  // Batches in the log passed the append path's size checks; the bound only guards against corruption.
  decompress: (compression, data) => decompress(compression, data, DEFAULT_MAX_DECODED_BYTES),
  compress: (compression, data) => compress(compression, data),
};
