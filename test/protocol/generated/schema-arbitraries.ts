// fast-check arbitraries derived from the generated schema model (src/protocol/generated/schema-model.json),
// shared by the round-trip tests. Values respect the version: absent fields hold their defaults,
// null appears only where the version allows it, and flexible versions carry unknown tagged fields.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

type Range = [number, number] | null | undefined;

export interface FieldModel {
  name: string;
  kind: string;
  array?: boolean;
  struct?: string;
  versions: Range;
  nullable?: Range;
  tagged?: Range;
  tag?: number;
  ignorable?: boolean;
  tsNullable?: boolean;
  default: { t: string; v?: unknown };
}

export interface MessageModel {
  module: string;
  name: string;
  kind: string;
  encode: string;
  decode: string;
  valid: [number, number];
  flexible: Range;
  root: string;
  structs: Record<string, FieldModel[]>;
}

export const MODEL: { messages: MessageModel[] } = JSON.parse(
  readFileSync(new URL('../../../src/protocol/generated/schema-model.json', import.meta.url), 'utf8'),
) as { messages: MessageModel[] };

export const inRange = (r: Range, v: number): boolean => r != null && v >= r[0] && v <= r[1];

export function defaultValue(m: MessageModel, f: FieldModel): unknown {
  const d = f.default;
  switch (d.t) {
    case 'null':
      return null;
    case 'number':
    case 'bool':
    case 'string':
    case 'uuid':
      return d.v;
    case 'bigint':
      return BigInt(d.v as string);
    case 'emptyBytes':
      return Buffer.alloc(0);
    case 'emptyArray':
      return [];
    case 'struct':
      return defaultStruct(m, f.struct!);
    default:
      throw new Error(`unknown default ${d.t}`);
  }
}

export function defaultStruct(m: MessageModel, name: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of m.structs[name]!) out[f.name] = defaultValue(m, f);
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('', 'topic-a', '__consumer_offsets'),
);
const bytes = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
const uuid = fc.oneof(fc.uuid().map((u) => u.toLowerCase()), fc.constant('00000000-0000-0000-0000-000000000000'));

function primitive(kind: string): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'int32':
      return fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
    case 'uint16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'uint32':
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case 'int64':
      return fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.bigInt({ min: -2n, max: 2n }));
    case 'float64':
      return fc.double();
    case 'bool':
      return fc.boolean();
    case 'uuid':
      return uuid;
    case 'string':
      return text;
    case 'bytes':
    case 'records':
      return bytes;
    default:
      throw new Error(`unknown primitive ${kind}`);
  }
}

/** Unknown tagged fields: distinct tags well above any tag the schemas use, ascending. */
const unknownTagged = fc
  .uniqueArray(fc.integer({ min: 1000, max: 1200 }), { minLength: 1, maxLength: 3 })
  .chain((tags) =>
    fc.tuple(...tags.sort((a, b) => a - b).map((tag) => bytes.map((data) => ({ tag, data })))),
  );

export function structArb(m: MessageModel, name: string, v: number, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = m.structs[name]!;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    parts[f.name] = inRange(f.versions, v) ? fieldArb(m, f, v, depth) : fc.constant(defaultValue(m, f));
  }
  // fc.record builds null-prototype objects; decoded messages are plain objects.
  const record = fc.record(parts).map((o) => ({ ...o }) as Record<string, unknown>);
  if (!inRange(m.flexible, v)) return record;
  return fc.tuple(record, fc.option(unknownTagged, { nil: undefined, freq: 4 })).map(([o, u]) => {
    if (u !== undefined) o.unknownTaggedFields = u;
    return o;
  });
}

function fieldArb(m: MessageModel, f: FieldModel, v: number, depth: number): fc.Arbitrary<unknown> {
  let arb: fc.Arbitrary<unknown>;
  if (f.kind === 'struct') {
    // Past a small depth, keep nested structs at their defaults to bound the value size.
    const element = depth > 3 ? fc.constant(defaultStruct(m, f.struct!)) : structArb(m, f.struct!, v, depth + 1);
    arb = f.array === true ? fc.array(element, { maxLength: depth > 1 ? 1 : 3 }) : element;
  } else {
    arb = f.array === true ? fc.array(primitive(f.kind), { maxLength: 4 }) : primitive(f.kind);
  }
  return inRange(f.nullable, v) ? fc.option(arb, { nil: null, freq: 3 }) : arb;
}

export function messageArb(m: MessageModel, v: number): fc.Arbitrary<unknown> {
  return structArb(m, m.root, v, 0);
}
