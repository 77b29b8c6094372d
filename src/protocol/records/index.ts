// The record-batch toolkit in one import: headers and in-place patching, walking and validation,
// record encoding/decoding, the batch builder, compression codecs and legacy (v0/v1) handling.
export * from './batch-header.js';
export * from './crc32c.js';
export * from './batches.js';
export * from './batch-records.js';
export * from './record.js';
export * from './builder.js';
export * from './compression.js';
export * from './legacy.js';
