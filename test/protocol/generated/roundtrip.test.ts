// Every generated codec (APIs, headers, metadata, coordinator and data records), every valid
// version: random valid messages must survive encode → decode unchanged, consume exactly the bytes
// written, and re-encode to the same bytes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { MODEL, messageArb, type MessageModel } from './schema-arbitraries.js';

type Encode = (w: Writer, v: number, m: unknown) => void;
type Decode = (r: Reader, v: number) => unknown;

const RUNS_PER_VERSION = Number(process.env.STRATA_ROUNDTRIP_RUNS ?? 40);

async function codecs(m: MessageModel): Promise<{ encode: Encode; decode: Decode }> {
  const mod = (await import(`../../../src/protocol/generated/${m.module}.js`)) as Record<string, unknown>;
  const encode = mod[m.encode];
  const decode = mod[m.decode];
  assert.equal(typeof encode, 'function', `${m.module} exports ${m.encode}`);
  assert.equal(typeof decode, 'function', `${m.module} exports ${m.decode}`);
  return { encode: encode as Encode, decode: decode as Decode };
}

function roundTrip(m: MessageModel, codec: { encode: Encode; decode: Decode }, v: number, value: unknown): void {
  const w = new Writer(32); // small first chunk so multi-chunk output is exercised
  codec.encode(w, v, value);
  const bytes = w.toBuffer();
  const r = new Reader(bytes);
  const decoded = codec.decode(r, v);
  assert.equal(r.remaining, 0, `${m.name} v${v}: decode left ${r.remaining} byte(s)`);
  assert.deepStrictEqual(decoded, value, `${m.name} v${v}`);
  const again = new Writer();
  codec.encode(again, v, decoded);
  assert.ok(again.toBuffer().equals(bytes), `${m.name} v${v}: re-encoding differs`);
}

const groups = new Map<string, MessageModel[]>();
for (const m of MODEL.messages) {
  const group = m.module.split('/')[0]!.replace(/\.ts$/, '');
  const key = ['messages', 'metadata', 'remote-log-metadata', 'coordinator', 'data'].includes(group) ? group : 'headers';
  groups.set(key, [...(groups.get(key) ?? []), m]);
}

test('the model covers every API key, both directions, and all record families', () => {
  const apis = groups.get('messages')!;
  assert.equal(apis.filter((m) => m.kind === 'request').length, 88);
  assert.equal(apis.filter((m) => m.kind === 'response').length, 88);
  assert.equal(groups.get('metadata')!.length, 25);
  assert.equal(groups.get('remote-log-metadata')!.length, 4);
  assert.equal(groups.get('coordinator')!.length, 24);
  assert.equal(groups.get('data')!.length, 9);
  assert.equal(groups.get('headers')!.length, 2);
});

for (const [group, messages] of groups) {
  describe(`round trip: ${group}`, () => {
    for (const m of messages) {
      test(`${m.name} v${m.valid[0]}-${m.valid[1]}`, async () => {
        const codec = await codecs(m);
        for (let v = m.valid[0]; v <= m.valid[1]; v++) {
          fc.assert(
            fc.property(messageArb(m, v), (value) => roundTrip(m, codec, v, value)),
            { numRuns: RUNS_PER_VERSION },
          );
        }
      });
    }
  });
}
