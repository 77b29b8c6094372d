// The raw floor's two ends, one process each (as broker and client are): no protocol, just bytes over one
// loopback TCP connection, in 1 MiB writes with backpressure.
//   sink <file|-> : listen on 127.0.0.1:0, print {"port"}, take one connection, append it to <file> (or drop
//                   it for "-"), then print {"bytes","ms"} timed from the first byte to the data being written
//   source <port> <bytes>       : send <bytes> from memory
//   source-file <port> <file>   : send the file's content (the consume floor: page cache → socket)
import { createReadStream, createWriteStream } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

const CHUNK = 1024 * 1024;

function sink(target: string): void {
  const server = createServer((socket: Socket) => {
    server.close();
    let bytes = 0;
    let first = 0;
    socket.on('data', (d: Buffer) => {
      if (first === 0) first = performance.now();
      bytes += d.length;
    });
    const out =
      target === '-'
        ? new Writable({ write: (_chunk, _enc, cb) => cb() })
        : createWriteStream(target, { highWaterMark: CHUNK });
    pipeline(socket, out).then(
      () => {
        process.stdout.write(`${JSON.stringify({ bytes, ms: first === 0 ? 0 : performance.now() - first })}\n`);
      },
      (err: unknown) => {
        process.stderr.write(`sink: ${(err as Error).message}\n`);
        process.exitCode = 1;
      },
    );
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
  });
}

function sourceMemory(port: number, total: number): void {
  const buf = Buffer.alloc(CHUNK, 'librdkafka_performance testing!');
  const socket = createConnection({ port, host: '127.0.0.1' }, () => {
    let left = total;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(CHUNK, left);
        left -= n;
        if (!socket.write(n === CHUNK ? buf : buf.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
  socket.on('error', (err) => {
    process.stderr.write(`source: ${err.message}\n`);
    process.exitCode = 1;
  });
}

function sourceFile(port: number, file: string): void {
  const socket = createConnection({ port, host: '127.0.0.1' }, () => {
    pipeline(createReadStream(file, { highWaterMark: CHUNK }), socket).catch((err: unknown) => {
      process.stderr.write(`source-file: ${(err as Error).message}\n`);
      process.exitCode = 1;
    });
  });
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'sink' && a !== undefined) sink(a);
else if (mode === 'source' && a !== undefined && b !== undefined) sourceMemory(Number(a), Number(b));
else if (mode === 'source-file' && a !== undefined && b !== undefined) sourceFile(Number(a), b);
else {
  process.stderr.write('usage: raw-floor-worker sink <file|-> | source <port> <bytes> | source-file <port> <file>\n');
  process.exitCode = 2;
}
