// One error class for the whole code base. `code` is a string from a closed set so callers can
// branch on it; Kafka's numeric error codes are data (see errors.ts), not exceptions.
export type StrataErrorCode =
  | 'ERR_DECODE' // bytes that do not parse: truncated, lengths past the end, bad varints, trailing bytes
  | 'ERR_ENCODE' // a message that cannot be written in the requested version
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_CORRUPT_RECORD' // bad CRC, bad sizes or bad offsets inside record batches
  | 'ERR_COMPRESSION'
  | 'ERR_RECORD_TOO_LARGE'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_CONFIG'
  | 'ERR_STORAGE'
  | 'ERR_CORRUPT_FILE' // a storage state file (checkpoint, index, snapshot) that does not parse or fails its CRC
  | 'ERR_OFFSET_OUT_OF_RANGE'
  | 'ERR_LOG_CLOSED'
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT' // a request or connection attempt that got no answer in time
  | 'ERR_KAFKA' // a broker answered with a Kafka error code (the client carries it as data on the error)
  | 'ERR_STATE'; // an operation that the current state does not allow

export class StrataError extends Error {
  readonly code: StrataErrorCode;

  constructor(code: StrataErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StrataError';
    this.code = code;
  }
}

export const isStrataError = (e: unknown, code?: StrataErrorCode): e is StrataError =>
  e instanceof StrataError && (code === undefined || e.code === code);
