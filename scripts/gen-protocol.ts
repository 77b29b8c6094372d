// Generates the protocol codecs in src/protocol/generated from Kafka's JSON message schemas.
//
//   npm run gen                 regenerate src/protocol/generated
//   npm run gen:check           regenerate into a temp dir; exit 1 if the committed output differs
//   options: --spec DIR (default ../shared/kafka-spec/3.9.0), --out DIR
//
// The schemas are facts (names, types, versions, defaults); their `about` prose is never emitted.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---- version ranges ------------------------------------------------------------------------------

interface Range {
  readonly lo: number;
  readonly hi: number; // Infinity when open-ended; empty when lo > hi
}

const NONE: Range = { lo: 1, hi: 0 };

function parseRange(s: string | undefined, dflt: Range): Range {
  if (s === undefined) return dflt;
  const t = s.trim();
  if (t === 'none') return NONE;
  let m = /^(\d+)\+$/.exec(t);
  if (m) return { lo: Number(m[1]), hi: Infinity };
  m = /^(\d+)-(\d+)$/.exec(t);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
  m = /^(\d+)$/.exec(t);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`bad version range ${JSON.stringify(s)}`);
}

const isEmpty = (r: Range): boolean => r.lo > r.hi;
const intersect = (a: Range, b: Range): Range => {
  const r = { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
  return isEmpty(r) ? NONE : r;
};
const hull = (a: Range, b: Range): Range =>
  isEmpty(a) ? b : isEmpty(b) ? a : { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
const jsonRange = (r: Range): [number, number] | null => (isEmpty(r) ? null : [r.lo, r.hi]);

/** A JS boolean expression over `v` that is true exactly for the versions of `r` within `ctx`. */
function cond(r: Range, ctx: Range): string {
  const x = intersect(r, ctx);
  if (isEmpty(x)) return 'false';
  const parts: string[] = [];
  if (x.lo > ctx.lo) parts.push(`v >= ${x.lo}`);
  if (x.hi < ctx.hi) parts.push(`v <= ${x.hi}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

const pick = (c: string, a: string, b: string): string => (c === 'true' ? a : c === 'false' ? b : `(${c} ? ${a} : ${b})`);
const not = (c: string): string => (c === 'true' ? 'false' : c === 'false' ? 'true' : `!(${c})`);

// ---- raw schema --------------------------------------------------------------------------------

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean | null;
  ignorable?: boolean;
  flexibleVersions?: string;
  fields?: RawField[];
}

interface RawSchema {
  type: 'request' | 'response' | 'header' | 'metadata' | 'data';
  name: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  deprecatedVersions?: string;
  listeners?: string[];
  latestVersionUnstable?: boolean;
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

/** Removes `//` comments outside of string literals (string values contain `//` in URLs). */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[++i] ?? '';
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

// ---- model -------------------------------------------------------------------------------------

const PRIMITIVES = ['int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'float64', 'bool', 'uuid'] as const;
type Kind = (typeof PRIMITIVES)[number] | 'string' | 'bytes' | 'records' | 'struct';

type DefaultValue =
  | { t: 'null' }
  | { t: 'number'; v: number }
  | { t: 'bigint'; v: bigint }
  | { t: 'bool'; v: boolean }
  | { t: 'string'; v: string }
  | { t: 'uuid'; v: string }
  | { t: 'emptyBytes' }
  | { t: 'emptyArray' }
  | { t: 'struct' };

interface FieldModel {
  readonly name: string; // camelCase
  readonly jsonName: string;
  readonly kind: Kind;
  readonly array: boolean;
  readonly struct: string | null; // TS name of the struct type
  readonly versions: Range; // ∩ the struct's context
  readonly nullable: Range; // ∩ versions
  readonly tagged: Range; // ∩ versions
  readonly tag: number | null;
  readonly ignorable: boolean;
  readonly flexOverride: Range | null;
  readonly dflt: DefaultValue;
  readonly tsNullable: boolean;
}

interface StructModel {
  readonly tsName: string;
  readonly jsonName: string;
  readonly fields: FieldModel[];
  ctx: Range;
}

interface MessageModel {
  readonly file: string;
  readonly raw: RawSchema;
  readonly name: string;
  readonly valid: Range;
  readonly flexible: Range; // ∩ valid
  readonly structs: StructModel[]; // root first
}

const camel = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const kebab = (s: string): string =>
  s
    .replace(/KRaft/g, 'Kraft')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

function parseDefault(f: RawField, kind: Kind, array: boolean, nullableAnywhere: boolean, where: string): DefaultValue {
  const d = f.default;
  if (d === null || d === 'null') {
    if (!nullableAnywhere && !(kind === 'records' && !array)) {
      throw new Error(`${where}: null default on a non-nullable field`);
    }
    return { t: 'null' };
  }
  if (array) {
    if (d !== undefined && d !== '' && d !== '[]') throw new Error(`${where}: unsupported array default ${String(d)}`);
    return { t: 'emptyArray' };
  }
  switch (kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint16':
    case 'uint32':
    case 'float64': {
      const n = d === undefined || d === '' ? 0 : Number(d);
      if (Number.isNaN(n)) throw new Error(`${where}: bad numeric default ${String(d)}`);
      return { t: 'number', v: n };
    }
    case 'int64':
      return { t: 'bigint', v: d === undefined || d === '' ? 0n : BigInt(String(d)) };
    case 'bool':
      if (d === undefined || d === false || d === 'false') return { t: 'bool', v: false };
      if (d === true || d === 'true') return { t: 'bool', v: true };
      throw new Error(`${where}: bad bool default ${String(d)}`);
    case 'uuid':
      return { t: 'uuid', v: d === undefined || d === '' ? '00000000-0000-0000-0000-000000000000' : String(d).toLowerCase() };
    case 'string':
      return { t: 'string', v: d === undefined ? '' : String(d) };
    case 'bytes':
      if (d !== undefined && d !== '') throw new Error(`${where}: unsupported bytes default ${String(d)}`);
      return { t: 'emptyBytes' };
    case 'records':
      return { t: 'null' };
    case 'struct':
      if (d !== undefined && d !== '') throw new Error(`${where}: unsupported struct default ${String(d)}`);
      return { t: 'struct' };
  }
}

function buildMessage(file: string, raw: RawSchema): MessageModel {
  const valid = parseRange(raw.validVersions, NONE);
  const flexible = intersect(parseRange(raw.flexibleVersions, NONE), valid);
  const structs = new Map<string, StructModel>();
  const order: StructModel[] = [];
  const common = new Map((raw.commonStructs ?? []).map((c) => [c.name, c]));
  const prefix = raw.name;

  const defineStruct = (jsonName: string, tsName: string, rawFields: RawField[], ctx: Range): StructModel => {
    const existing = structs.get(tsName);
    if (existing && existing.jsonName !== jsonName) throw new Error(`${file}: struct name clash on ${tsName}`);
    if (existing) {
      existing.ctx = hull(existing.ctx, ctx);
      return existing;
    }
    const s: StructModel = { tsName, jsonName, fields: [], ctx };
    structs.set(tsName, s);
    order.push(s);
    for (const rf of rawFields) s.fields.push(buildField(rf, s, ctx));
    return s;
  };

  const buildField = (rf: RawField, parent: StructModel, ctx: Range): FieldModel => {
    const where = `${file}: ${parent.jsonName}.${rf.name}`;
    const array = rf.type.startsWith('[]');
    const base = array ? rf.type.slice(2) : rf.type;
    const tagged = intersect(parseRange(rf.taggedVersions, NONE), ctx);
    const versions = intersect(parseRange(rf.versions ?? rf.taggedVersions, NONE), ctx);
    const nullable = intersect(parseRange(rf.nullableVersions, NONE), versions);
    let kind: Kind;
    let struct: string | null = null;
    if ((PRIMITIVES as readonly string[]).includes(base) || base === 'string' || base === 'bytes' || base === 'records') {
      kind = base as Kind;
      if (rf.fields) throw new Error(`${where}: fields on a primitive`);
    } else {
      kind = 'struct';
      // Prefix with the message name to stay unique per module, without doubling it.
      const tsName = base.startsWith(prefix) && base !== prefix ? base : prefix + base;
      const structCtx = rf.fields ? versions : valid;
      if (rf.fields) {
        defineStruct(base, tsName, rf.fields, isEmpty(structCtx) ? valid : structCtx);
      } else {
        const c = common.get(base);
        if (!c) throw new Error(`${where}: unknown struct type ${base}`);
        defineStruct(base, tsName, c.fields, valid);
      }
      struct = tsName;
    }
    if (!isEmpty(nullable) && PRIMITIVES.includes(kind as (typeof PRIMITIVES)[number]) && !array) {
      throw new Error(`${where}: nullable primitive`);
    }
    const nullableAnywhere = !isEmpty(intersect(parseRange(rf.nullableVersions, NONE), parseRange(rf.versions ?? rf.taggedVersions, NONE)));
    const dflt = parseDefault(rf, kind, array, nullableAnywhere, where);
    return {
      name: camel(rf.name),
      jsonName: rf.name,
      kind,
      array,
      struct,
      versions,
      nullable,
      tagged,
      tag: rf.tag ?? null,
      ignorable: rf.ignorable === true,
      flexOverride: rf.flexibleVersions === undefined ? null : parseRange(rf.flexibleVersions, NONE),
      dflt,
      tsNullable: !isEmpty(nullable) || nullableAnywhere || dflt.t === 'null',
    };
  };

  defineStruct(raw.name, raw.name, raw.fields, valid);
  for (const s of order) {
    const tags = new Set<number>();
    for (const f of s.fields) {
      if (f.tag === null) continue;
      if (tags.has(f.tag)) throw new Error(`${file}: duplicate tag ${f.tag} in ${s.jsonName}`);
      tags.add(f.tag);
    }
  }
  return { file, raw, name: raw.name, valid, flexible, structs: order };
}

// ---- code emission for one module --------------------------------------------------------------

const ELEMENT_CODEC: Record<string, [string, string]> = {
  int8: ['rdInt8', 'wrInt8'],
  int16: ['rdInt16', 'wrInt16'],
  int32: ['rdInt32', 'wrInt32'],
  int64: ['rdInt64', 'wrInt64'],
  uint16: ['rdUint16', 'wrUint16'],
  uint32: ['rdUint32', 'wrUint32'],
  float64: ['rdFloat64', 'wrFloat64'],
  bool: ['rdBool', 'wrBool'],
  uuid: ['rdUuid', 'wrUuid'],
};

const TS_BASE: Record<string, string> = {
  int8: 'number',
  int16: 'number',
  int32: 'number',
  int64: 'bigint',
  uint16: 'number',
  uint32: 'number',
  float64: 'number',
  bool: 'boolean',
  uuid: 'string',
  string: 'string',
  bytes: 'Buffer',
  records: 'Buffer',
};

class ModuleEmitter {
  readonly structByName = new Map<string, StructModel>();
  readonly isDefaultNeeded = new Set<string>();
  readonly messages: MessageModel[] = [];
  #flex = new Map<string, Range>(); // struct → its message's flexible range

  add(m: MessageModel): void {
    this.messages.push(m);
    for (const s of m.structs) {
      this.structByName.set(s.tsName, s);
      this.#flex.set(s.tsName, m.flexible);
    }
  }

  tsType(f: FieldModel): string {
    const base = f.kind === 'struct' ? f.struct! : TS_BASE[f.kind]!;
    const t = f.array ? `${base}[]` : base;
    return f.tsNullable ? `${t} | null` : t;
  }

  defaultExpr(f: FieldModel): string {
    const d = f.dflt;
    switch (d.t) {
      case 'null':
        return 'null';
      case 'number':
        return Object.is(d.v, -0) ? '0' : String(d.v);
      case 'bigint':
        return `${d.v}n`;
      case 'bool':
        return String(d.v);
      case 'string':
        return JSON.stringify(d.v);
      case 'uuid':
        return d.v === '00000000-0000-0000-0000-000000000000' ? 'ZERO_UUID' : JSON.stringify(d.v);
      case 'emptyBytes':
        return 'EMPTY_BUFFER';
      case 'emptyArray':
        return '[]';
      case 'struct':
        return `default${f.struct}()`;
    }
  }

  /** An expression that is true when `val` differs from the field's default. */
  notDefault(f: FieldModel, val: string): string {
    const d = f.dflt;
    switch (d.t) {
      case 'null':
        return `${val} !== null`;
      case 'emptyBytes':
      case 'emptyArray':
        return f.tsNullable ? `(${val} === null || ${val}.length !== 0)` : `${val}.length !== 0`;
      case 'struct':
        // Field-by-field against the defaults, without allocating a default struct (Fetch hot path).
        this.isDefaultNeeded.add(f.struct!);
        return `!isDefault${f.struct}(${val})`;
      default:
        return `${val} !== ${this.defaultExpr(f)}`;
    }
  }

  compactCond(f: FieldModel, s: StructModel, ctx: Range): string {
    return cond(f.flexOverride ?? this.#flex.get(s.tsName)!, ctx);
  }

  readExpr(f: FieldModel, s: StructModel, ctx: Range, rv: string): string {
    const compact = this.compactCond(f, s, ctx);
    const nullable = cond(f.nullable, ctx);
    const lab = JSON.stringify(f.name);
    if (f.array) {
      let el: string;
      if (f.kind === 'struct') el = `read${f.struct}`;
      else if (f.kind === 'string') el = pick(compact, 'rdCompactString', 'rdString');
      else if (f.kind === 'bytes' || f.kind === 'records') el = pick(compact, 'rdCompactBytes', 'rdBytes');
      else el = ELEMENT_CODEC[f.kind]![0];
      const call = (fn: string): string => `${fn}(${rv}, ${compact}, ${lab}, ${el}, v)`;
      return nullable === 'false' ? call('readArray') : nullable === 'true' ? call('readNullableArray') : pick(nullable, call('readNullableArray'), call('readArray'));
    }
    switch (f.kind) {
      case 'string':
        return pick(
          compact,
          pick(nullable, `${rv}.compactNullableString(${lab})`, `${rv}.compactString(${lab})`),
          pick(nullable, `${rv}.nullableString(${lab})`, `${rv}.string(${lab})`),
        );
      case 'bytes':
      case 'records':
        return pick(
          compact,
          pick(nullable, `${rv}.compactNullableBytes(${lab})`, `${rv}.compactBytes(${lab})`),
          pick(nullable, `${rv}.nullableBytes(${lab})`, `${rv}.bytes(${lab})`),
        );
      case 'struct':
        return pick(nullable, `(${rv}.int8(${lab}) < 0 ? null : read${f.struct}(${rv}, v))`, `read${f.struct}(${rv}, v)`);
      default:
        return `${rv}.${f.kind}(${lab})`;
    }
  }

  writeStmt(f: FieldModel, s: StructModel, ctx: Range, wv: string, val: string, indent: string): string {
    const compact = this.compactCond(f, s, ctx);
    const nullable = cond(f.nullable, ctx);
    const lab = JSON.stringify(f.name);
    const branch = (c: string, a: string, b: string): string =>
      c === 'true' ? `${indent}${a}\n` : c === 'false' ? `${indent}${b}\n` : `${indent}if (${c}) ${a}\n${indent}else ${b}\n`;
    if (f.array) {
      let el: string;
      if (f.kind === 'struct') el = `write${f.struct}`;
      else if (f.kind === 'string') el = pick(compact, 'wrCompactString', 'wrString');
      else if (f.kind === 'bytes' || f.kind === 'records') el = pick(compact, 'wrCompactBytes', 'wrBytes');
      else el = ELEMENT_CODEC[f.kind]![1];
      const call = (fn: string): string => `${fn}(${wv}, ${compact}, ${lab}, ${val}, ${el}, v);`;
      return branch(nullable, call('writeNullableArray'), call('writeArray'));
    }
    switch (f.kind) {
      case 'string':
        return this.#stringLike('String', compact, nullable, wv, val, lab, indent);
      case 'bytes':
      case 'records':
        return this.#stringLike('Bytes', compact, nullable, wv, val, lab, indent);
      case 'struct': {
        const present = `write${f.struct}(${wv}, ${val}, v);`;
        const nonNull = f.tsNullable ? `write${f.struct}(${wv}, notNull(${val}, ${lab}), v);` : present;
        const maybeNull = `if (${val} === null) ${wv}.int8(-1);\n${indent}else { ${wv}.int8(1); ${present} }`;
        return branch(nullable, `{\n${indent}  ${maybeNull.replace(/\n/g, `\n  `)}\n${indent}}`, nonNull);
      }
      default:
        return `${indent}${wv}.${f.kind}(${val});\n`;
    }
  }

  #stringLike(
    what: 'String' | 'Bytes',
    compact: string,
    nullable: string,
    wv: string,
    val: string,
    lab: string,
    indent: string,
  ): string {
    const method = (c: boolean, n: boolean): string => (c ? `compact${n ? 'Nullable' : ''}${what}` : n ? `nullable${what}` : what.toLowerCase());
    const stmt = (c: boolean): string => {
      if (nullable === 'true' || nullable === 'false') return `${wv}.${method(c, nullable === 'true')}(${val}, ${lab});`;
      return `if (${nullable}) ${wv}.${method(c, true)}(${val}, ${lab}); else ${wv}.${method(c, false)}(${val}, ${lab});`;
    };
    if (compact === 'true') return `${indent}${stmt(true)}\n`;
    if (compact === 'false') return `${indent}${stmt(false)}\n`;
    return `${indent}if (${compact}) { ${stmt(true)} } else { ${stmt(false)} }\n`;
  }

  emitInterface(s: StructModel): string {
    let out = `export interface ${s.tsName} {\n`;
    for (const f of s.fields) out += `  ${f.name}: ${this.tsType(f)};\n`;
    out += `  unknownTaggedFields?: TaggedField[];\n}\n`;
    return out;
  }

  emitReader(s: StructModel): string {
    const ctx = s.ctx;
    const flex = cond(this.#flex.get(s.tsName)!, ctx);
    let out = `function read${s.tsName}(r: Reader, v: number): ${s.tsName} {\n`;
    const taggedFields = s.fields.filter((f) => !isEmpty(f.tagged)).sort((a, b) => a.tag! - b.tag!);
    for (const f of s.fields) {
      const positional = isEmpty(f.tagged) ? f.versions : intersect(f.versions, { lo: f.versions.lo, hi: f.tagged.lo - 1 });
      const pc = cond(positional, ctx);
      const decl = isEmpty(f.tagged) ? 'const' : 'let';
      let init: string;
      if (pc === 'true') init = this.readExpr(f, s, intersect(positional, ctx), 'r');
      else if (pc === 'false') init = this.defaultExpr(f);
      else init = `${pc} ? ${this.readExpr(f, s, intersect(positional, ctx), 'r')} : ${this.defaultExpr(f)}`;
      out += `  ${decl} f_${f.name}: ${this.tsType(f)} = ${init};\n`;
    }
    if (flex === 'false') {
      // never flexible: no tagged-field section
    } else if (taggedFields.length === 0) {
      out += flex === 'true' ? `  const unknown = r.taggedFields();\n` : `  const unknown = ${flex} ? r.taggedFields() : undefined;\n`;
    } else {
      out += `  let unknown: TaggedField[] | undefined;\n`;
      out += `  if (${flex}) {\n`;
      out += `    const nt = r.taggedCount();\n`;
      out += `    for (let i = 0; i < nt; i++) {\n`;
      out += `      const tag = r.uvarint('tag');\n`;
      out += `      const t = r.child(r.uvarint('tagged field size'), 'tagged field');\n`;
      out += `      switch (tag) {\n`;
      for (const f of taggedFields) {
        const tctx = intersect(f.tagged, ctx);
        const tc = cond(f.tagged, ctx);
        const body = `f_${f.name} = ${this.readExpr(f, s, tctx, 't')}; t.ensureEnd(${JSON.stringify(`${s.jsonName}.${f.jsonName}`)}); continue;`;
        out += tc === 'true' ? `        case ${f.tag}: ${body}\n` : `        case ${f.tag}: if (${tc}) { ${body} } break;\n`;
      }
      out += `      }\n`;
      out += `      (unknown ??= []).push({ tag, data: t.rest() });\n`;
      out += `    }\n  }\n`;
    }
    out += `  const o: ${s.tsName} = {`;
    out += s.fields.map((f) => ` ${f.name}: f_${f.name}`).join(',');
    out += s.fields.length > 0 ? ' };\n' : '};\n';
    if (flex !== 'false') out += `  if (unknown !== undefined) o.unknownTaggedFields = unknown;\n`;
    out += `  return o;\n}\n`;
    return out;
  }

  emitWriter(s: StructModel): string {
    const ctx = s.ctx;
    const flex = cond(this.#flex.get(s.tsName)!, ctx);
    let out = `function write${s.tsName}(w: Writer, m: ${s.tsName}, v: number): void {\n`;
    for (const f of s.fields) {
      const val = `m.${f.name}`;
      const positional = isEmpty(f.tagged) ? f.versions : intersect(f.versions, { lo: f.versions.lo, hi: f.tagged.lo - 1 });
      const pc = cond(positional, ctx);
      if (pc === 'true') out += this.writeStmt(f, s, intersect(positional, ctx), 'w', val, '  ');
      else if (pc !== 'false') out += `  if (${pc}) {\n${this.writeStmt(f, s, intersect(positional, ctx), 'w', val, '    ')}  }\n`;
      const present = cond(f.versions, ctx);
      if (!f.ignorable && present !== 'true') {
        const guard = present === 'false' ? this.notDefault(f, val) : `${not(present)} && ${this.notDefault(f, val)}`;
        out += `  if (${guard}) throw fieldAbsent(${JSON.stringify(s.jsonName)}, ${JSON.stringify(f.name)}, v);\n`;
      }
    }
    const taggedFields = s.fields.filter((f) => !isEmpty(f.tagged)).sort((a, b) => a.tag! - b.tag!);
    const writeTagged = 'writeTaggedFields';
    if (flex === 'false') {
      out += `  if (m.unknownTaggedFields !== undefined && m.unknownTaggedFields.length > 0) throw noTaggedFields(${JSON.stringify(s.jsonName)}, v);\n`;
    } else {
      let section = '';
      const ind = flex === 'true' ? '  ' : '    ';
      if (taggedFields.length === 0) {
        section += `${ind}${writeTagged}(w, undefined, m.unknownTaggedFields);\n`;
      } else {
        section += `${ind}let tg: TaggedOut[] | undefined;\n`;
        for (const f of taggedFields) {
          const tctx = intersect(f.tagged, ctx);
          const tc = cond(f.tagged, ctx);
          const val = `m.${f.name}`;
          const test = tc === 'true' ? this.notDefault(f, val) : `${tc} && ${this.notDefault(f, val)}`;
          section += `${ind}if (${test}) {\n${ind}  const tw = taggedWriter();\n`;
          section += this.writeStmt(f, s, tctx, 'tw', val, `${ind}  `);
          section += `${ind}  (tg ??= []).push({ tag: ${f.tag}, data: tw });\n${ind}}\n`;
        }
        section += `${ind}${writeTagged}(w, tg, m.unknownTaggedFields);\n`;
      }
      if (flex === 'true') out += section;
      else {
        out += `  if (${flex}) {\n${section}  } else if (m.unknownTaggedFields !== undefined && m.unknownTaggedFields.length > 0) {\n`;
        out += `    throw noTaggedFields(${JSON.stringify(s.jsonName)}, v);\n  }\n`;
      }
    }
    out += `}\n`;
    return out;
  }

  emitDefault(s: StructModel): string {
    let out = `/** A ${s.tsName} with every field at its schema default. */\nexport function default${s.tsName}(): ${s.tsName} {\n  return {`;
    out += s.fields.map((f) => ` ${f.name}: ${this.defaultExpr(f)}`).join(',');
    out += s.fields.length > 0 ? ' };\n}\n' : '};\n}\n';
    return out;
  }

  emitIsDefault(s: StructModel): string {
    const tests = s.fields.map((f) => {
      const nd = this.notDefault(f, `m.${f.name}`);
      const simple = /^([\w.]+) !== ([^&|]+)$/.exec(nd);
      return simple ? `${simple[1]} === ${simple[2]}` : `!(${nd})`;
    });
    tests.push('(m.unknownTaggedFields === undefined || m.unknownTaggedFields.length === 0)');
    return `function isDefault${s.tsName}(m: ${s.tsName}): boolean {\n  return ${tests.join(' &&\n    ')};\n}\n`;
  }

  /** The whole module body: interfaces, struct codecs, defaults, the exported entry points. */
  emitBody(exportsFor: (m: MessageModel) => string): string {
    let types = '';
    let code = '';
    for (const m of this.messages) {
      for (const s of m.structs) types += this.emitInterface(s) + '\n';
    }
    for (const m of this.messages) {
      code += exportsFor(m);
      for (const s of m.structs) code += '\n' + markUnusedVersion(this.emitReader(s)) + '\n' + markUnusedVersion(this.emitWriter(s));
    }
    // Every struct gets an exported all-defaults factory: handlers spread it and set what they need.
    let defaults = '';
    for (const m of this.messages) for (const s of m.structs) defaults += '\n' + this.emitDefault(s);
    // isDefault<Struct> predicates only where used (they are module-private); they can need each other.
    const done = new Set<string>();
    for (;;) {
      const next = [...this.isDefaultNeeded].filter((n) => !done.has(n)).sort();
      if (next.length === 0) break;
      for (const n of next) {
        done.add(n);
        defaults += '\n' + this.emitIsDefault(this.structByName.get(n)!);
      }
    }
    return types + code + defaults;
  }

  imports(depth: number, body: string): string {
    const up = depth === 0 ? './' : '../'.repeat(depth);
    // Import exactly the runtime names the body mentions (noUnusedLocals is on for generated code).
    const used = (n: string): boolean => new RegExp(`\\b${n}\\b`).test(body);
    const values = RUNTIME_VALUES.filter(used);
    const types = RUNTIME_TYPES.filter(used);
    let out = `import type { Reader } from '${up}reader.js';\nimport type { Writer } from '${up}writer.js';\n`;
    if (types.length > 0) out += `import type { ${types.join(', ')} } from '${up}codec-runtime.js';\n`;
    if (values.length > 0) out += `import { ${values.join(', ')} } from '${up}codec-runtime.js';\n`;
    return out;
  }
}

const RUNTIME_TYPES = ['TaggedField', 'TaggedOut'];
const RUNTIME_VALUES = [
  'EMPTY_BUFFER', 'ZERO_UUID', 'checkVersion', 'fieldAbsent', 'noTaggedFields', 'notNull',
  'rdBool', 'rdBytes', 'rdCompactBytes', 'rdCompactString', 'rdFloat64', 'rdInt16', 'rdInt32', 'rdInt64', 'rdInt8',
  'rdString', 'rdUint16', 'rdUint32', 'rdUuid', 'readArray', 'readNullableArray', 'taggedWriter',
  'wrBool', 'wrBytes', 'wrCompactBytes', 'wrCompactString', 'wrFloat64', 'wrInt16', 'wrInt32', 'wrInt64', 'wrInt8',
  'wrString', 'wrUint16', 'wrUint32', 'wrUuid', 'writeArray', 'writeNullableArray', 'writeTaggedFields',
];

/** Renames the version parameter of a generated function to `_v` when its body never reads it. */
function markUnusedVersion(fn: string): string {
  const uses = fn.match(/\bv\b/g)?.length ?? 0;
  return uses <= 1 ? fn.replace(/\bv: number\)/, '_v: number)') : fn;
}

// ---- files ---------------------------------------------------------------------------------------

interface Loaded {
  dir: string; // message, metadata, storage, coordinator/group, coordinator/transaction, raft
  file: string;
  raw: RawSchema;
}

function loadAll(specDir: string): Loaded[] {
  const dirs = ['message', 'metadata', 'storage', 'coordinator/group', 'coordinator/transaction', 'raft'];
  const out: Loaded[] = [];
  for (const dir of dirs) {
    const full = join(specDir, dir);
    if (!existsSync(full)) continue;
    for (const file of readdirSync(full).filter((f) => f.endsWith('.json')).sort()) {
      const text = readFileSync(join(full, file), 'utf8');
      let raw: RawSchema;
      try {
        raw = JSON.parse(stripComments(text)) as RawSchema;
      } catch (e) {
        throw new Error(`${dir}/${file}: ${(e as Error).message}`);
      }
      out.push({ dir, file: `${dir}/${file}`, raw });
    }
  }
  return out;
}

interface ModelEntry {
  module: string; // path under generated/, without extension
  name: string;
  kind: string;
  encode: string;
  decode: string;
  valid: [number, number];
  flexible: [number, number] | null;
  root: string;
  structs: Record<string, unknown[]>;
}

function modelEntry(module: string, m: MessageModel, encode: string, decode: string): ModelEntry {
  const structs: Record<string, unknown[]> = {};
  for (const s of m.structs) {
    // Compact: properties that are null / false / absent are left out.
    structs[s.tsName] = s.fields.map((f) => {
      const o: Record<string, unknown> = { name: f.name, kind: f.kind };
      if (f.array) o.array = true;
      if (f.struct !== null) o.struct = f.struct;
      o.versions = jsonRange(f.versions);
      if (!isEmpty(f.nullable)) o.nullable = jsonRange(f.nullable);
      if (!isEmpty(f.tagged)) o.tagged = jsonRange(f.tagged);
      if (f.tag !== null) o.tag = f.tag;
      if (f.ignorable) o.ignorable = true;
      if (f.tsNullable) o.tsNullable = true;
      o.default = f.dflt.t === 'bigint' ? { t: 'bigint', v: String(f.dflt.v) } : f.dflt;
      return o;
    });
  }
  return {
    module,
    name: m.name,
    kind: m.raw.type,
    encode,
    decode,
    valid: [m.valid.lo, m.valid.hi],
    flexible: jsonRange(m.flexible),
    root: m.name,
    structs,
  };
}

export function generate(specDir: string): Map<string, string> {
  const specVersion = basename(resolve(specDir));
  const header = `// Generated by scripts/gen-protocol.ts from Apache Kafka ${specVersion} schemas. Do not edit.\n`;
  const files = new Map<string, string>();
  const model: ModelEntry[] = [];
  const all = loadAll(specDir);

  const entryPoints = (m: MessageModel): string => {
    const lo = m.valid.lo;
    const hi = m.valid.hi;
    return (
      `\nexport function encode${m.name}(w: Writer, version: number, msg: ${m.name}): void {\n` +
      `  checkVersion(${JSON.stringify(m.name)}, version, ${lo}, ${hi});\n  write${m.name}(w, msg, version);\n}\n` +
      `\nexport function decode${m.name}(r: Reader, version: number): ${m.name} {\n` +
      `  checkVersion(${JSON.stringify(m.name)}, version, ${lo}, ${hi});\n  return read${m.name}(r, version);\n}\n`
    );
  };

  const emitModule = (path: string, depth: number, messages: MessageModel[]): void => {
    const e = new ModuleEmitter();
    for (const m of messages) e.add(m);
    const body = e.emitBody(entryPoints);
    files.set(path, `${header}${e.imports(depth, body)}\n${body}`);
    for (const m of messages) {
      model.push(modelEntry(path.replace(/\.ts$/, ''), m, `encode${m.name}`, `decode${m.name}`));
    }
  };

  // APIs: request + response per module.
  const requests = all.filter((l) => l.raw.type === 'request');
  const responses = new Map(all.filter((l) => l.raw.type === 'response').map((l) => [l.raw.apiKey!, l]));
  const apis: { key: number; name: string; module: string; req: MessageModel; res: MessageModel }[] = [];
  for (const l of requests) {
    const key = l.raw.apiKey!;
    const resL = responses.get(key);
    if (!resL) throw new Error(`no response for api key ${key}`);
    const name = l.raw.name.replace(/Request$/, '');
    const req = buildMessage(l.file, l.raw);
    const res = buildMessage(resL.file, resL.raw);
    const module = `messages/${kebab(name)}`;
    emitModule(`${module}.ts`, 2, [req, res]);
    apis.push({ key, name, module, req, res });
  }
  apis.sort((a, b) => a.key - b.key);
  apis.forEach((a, i) => {
    if (a.key !== i) throw new Error(`api keys are not contiguous at ${i}`);
  });

  // Headers.
  const headers = all.filter((l) => l.raw.type === 'header').sort((a, b) => (a.raw.name < b.raw.name ? -1 : 1));
  emitModule('headers.ts', 1, headers.map((l) => buildMessage(l.file, l.raw)));

  // apis.ts
  {
    let out = `${header}import type { ApiSchema } from '../codec-runtime.js';\n`;
    for (const a of apis) {
      out += `import type { ${a.req.name}, ${a.res.name} } from './${a.module}.js';\n`;
      out += `import { decode${a.req.name}, decode${a.res.name}, encode${a.req.name}, encode${a.res.name} } from './${a.module}.js';\n`;
    }
    out += `\nexport type { ApiSchema } from '../codec-runtime.js';\n`;
    out += `\nexport const ApiKey = {\n${apis.map((a) => `  ${a.name}: ${a.key},`).join('\n')}\n} as const;\n`;
    out += `export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];\n`;
    out += `\n/** Request and response message types by api key. */\nexport interface ApiMessages {\n`;
    out += apis.map((a) => `  ${a.key}: { request: ${a.req.name}; response: ${a.res.name} };`).join('\n');
    out += `\n}\n\nexport type ApiSchemaOf<K extends keyof ApiMessages> = ApiSchema<ApiMessages[K]['request'], ApiMessages[K]['response']>;\n`;
    for (const a of apis) {
      const raw = a.req.raw;
      const flexLo = isEmpty(a.req.flexible) ? null : a.req.flexible.lo;
      const resFlexLo = isEmpty(a.res.flexible) ? null : a.res.flexible.lo;
      const dep = parseRange(raw.deprecatedVersions, NONE);
      let reqHeader: string;
      if (a.name === 'ControlledShutdown') reqHeader = `(v) => (v === 0 ? 0 : ${flexLo === null ? '1' : `v >= ${flexLo} ? 2 : 1`})`;
      else reqHeader = flexLo === null ? '() => 1' : `(v) => (v >= ${flexLo} ? 2 : 1)`;
      // ApiVersions responses always use header v0 so any client can read them (KIP-511).
      const resHeader = a.name === 'ApiVersions' || resFlexLo === null ? '() => 0' : `(v) => (v >= ${resFlexLo} ? 1 : 0)`;
      out += `\nexport const ${a.name}Api: ApiSchema<${a.req.name}, ${a.res.name}> = {\n`;
      out += `  apiKey: ${a.key},\n  name: ${JSON.stringify(a.name)},\n  minVersion: ${a.req.valid.lo},\n  maxVersion: ${a.req.valid.hi},\n`;
      out += `  flexibleMinVersion: ${flexLo === null ? 'null' : flexLo},\n`;
      out += `  listeners: ${JSON.stringify(raw.listeners ?? [])},\n`;
      out += `  latestVersionUnstable: ${raw.latestVersionUnstable === true},\n`;
      out += `  deprecatedVersions: ${isEmpty(dep) ? 'null' : `[${dep.lo}, ${Math.min(dep.hi, a.req.valid.hi)}]`},\n`;
      out += `  requestHeaderVersion: ${reqHeader},\n  responseHeaderVersion: ${resHeader},\n`;
      out += `  decodeRequest: decode${a.req.name},\n  encodeRequest: encode${a.req.name},\n`;
      out += `  decodeResponse: decode${a.res.name},\n  encodeResponse: encode${a.res.name},\n};\n`;
    }
    out += `\n/** Every API, indexed by api key. */\nexport const API_SCHEMAS: readonly ApiSchema[] = [\n`;
    out += apis.map((a) => `  ${a.name}Api as ApiSchema,`).join('\n');
    out += `\n];\n`;
    files.set('apis.ts', out);
  }

  // Metadata records (KRaft metadata/ and tiered-storage storage/ share the framing).
  const recordFamily = (dir: string, family: string, fileName: string): void => {
    const ls = all.filter((l) => l.dir === dir && l.raw.type === 'metadata').sort((a, b) => a.raw.apiKey! - b.raw.apiKey!);
    const mods: { key: number; name: string; short: string; module: string; m: MessageModel }[] = [];
    for (const l of ls) {
      const m = buildMessage(l.file, l.raw);
      const module = `${dir === 'metadata' ? 'metadata' : 'remote-log-metadata'}/${kebab(l.raw.name)}`;
      emitModule(`${module}.ts`, 2, [m]);
      mods.push({ key: l.raw.apiKey!, name: l.raw.name, short: l.raw.name.replace(/Record$/, ''), module, m });
    }
    let out = `${header}import type { Reader } from '../reader.js';\nimport type { Writer } from '../writer.js';\n`;
    out += `import { StrataError } from '../strata-error.js';\n`;
    for (const x of mods) {
      out += `import type { ${x.name} } from './${x.module}.js';\nimport { decode${x.name}, encode${x.name} } from './${x.module}.js';\n`;
    }
    out += `\nexport const ${family}Type = {\n${mods.map((x) => `  ${x.short}: ${x.key},`).join('\n')}\n} as const;\n`;
    out += `\nexport type ${family} =\n${mods.map((x) => `  | { type: ${x.key}; version: number; data: ${x.name} }`).join('\n')};\n`;
    out += `\nexport interface ${family}Schema {\n  readonly type: number;\n  readonly name: string;\n  readonly minVersion: number;\n  readonly maxVersion: number;\n`;
    out += `  decode(r: Reader, version: number): unknown;\n  encode(w: Writer, version: number, data: never): void;\n}\n`;
    out += `\n/** Record schemas indexed by record type (sparse). */\nexport const ${fileName}: readonly (${family}Schema | undefined)[] = (() => {\n`;
    out += `  const t: (${family}Schema | undefined)[] = [];\n`;
    for (const x of mods) {
      out += `  t[${x.key}] = { type: ${x.key}, name: ${JSON.stringify(x.short)}, minVersion: ${x.m.valid.lo}, maxVersion: ${x.m.valid.hi}, decode: decode${x.name}, encode: encode${x.name} as (w: Writer, v: number, d: never) => void };\n`;
    }
    out += `  return t;\n})();\n`;
    out += `\n/** The frame version written before every record. */\nconst FRAME_VERSION = 1;\n`;
    out += `\n/** Writes frame version, record type, record version (unsigned varints), then the body. */\n`;
    out += `export function encode${family}(w: Writer, record: ${family}): void {\n`;
    out += `  const schema = ${fileName}[record.type];\n  if (schema === undefined) throw new StrataError('ERR_ENCODE', \`unknown record type \${String(record.type)}\`);\n`;
    out += `  w.uvarint(FRAME_VERSION);\n  w.uvarint(record.type);\n  w.uvarint(record.version);\n`;
    out += `  schema.encode(w, record.version, record.data as never);\n}\n`;
    out += `\n/** Reads one framed record (the caller checks that nothing trails it). */\n`;
    out += `export function decode${family}(r: Reader): ${family} {\n`;
    out += `  const frame = r.uvarint('frame version');\n  if (frame !== FRAME_VERSION) throw new StrataError('ERR_DECODE', \`unsupported record frame version \${frame}\`);\n`;
    out += `  const type = r.uvarint('record type');\n  const version = r.uvarint('record version');\n`;
    out += `  const schema = ${fileName}[type];\n  if (schema === undefined) throw new StrataError('ERR_DECODE', \`unknown record type \${type}\`);\n`;
    out += `  return { type, version, data: schema.decode(r, version) } as ${family};\n}\n`;
    files.set(`${kebab(family)}s.ts`, out);
  };
  recordFamily('metadata', 'MetadataRecord', 'METADATA_RECORD_SCHEMAS');
  recordFamily('storage', 'RemoteLogMetadataRecord', 'REMOTE_LOG_METADATA_RECORD_SCHEMAS');

  // Coordinator records: key/value pairs whose key version names the record type.
  const coordinatorFamily = (dir: string, family: string): void => {
    const ls = all.filter((l) => l.dir === dir);
    const built = new Map<string, { m: MessageModel; module: string }>();
    for (const l of ls) {
      const m = buildMessage(l.file, l.raw);
      const module = `coordinator/${kebab(l.raw.name)}`;
      emitModule(`${module}.ts`, 2, [m]);
      built.set(l.raw.name, { m, module });
    }
    const kinds = [...built.keys()]
      .filter((n) => n.endsWith('Key'))
      .map((n) => {
        const key = built.get(n)!;
        const valueName = n.replace(/Key$/, 'Value');
        const value = built.get(valueName);
        if (!value) throw new Error(`${dir}: no value for ${n}`);
        return { type: n.replace(/Key$/, ''), key, value, keyName: n, valueName };
      })
      .sort((a, b) => a.key.m.valid.lo - b.key.m.valid.lo);
    let out = `${header}import type { Reader } from '../reader.js';\nimport type { Writer } from '../writer.js';\n`;
    out += `import { StrataError } from '../strata-error.js';\n`;
    for (const k of kinds) {
      out += `import type { ${k.keyName} } from './${k.key.module}.js';\nimport { decode${k.keyName}, encode${k.keyName} } from './${k.key.module}.js';\n`;
      out += `import type { ${k.valueName} } from './${k.value.module}.js';\nimport { decode${k.valueName}, encode${k.valueName} } from './${k.value.module}.js';\n`;
    }
    const keyVersions = (k: (typeof kinds)[number]): number[] => {
      const vs: number[] = [];
      for (let v = k.key.m.valid.lo; v <= k.key.m.valid.hi; v++) vs.push(v);
      return vs;
    };
    out += `\nexport type ${family}Type = ${kinds.map((k) => JSON.stringify(k.type)).join(' | ')};\n`;
    out += `\nexport type ${family}Key =\n${kinds.map((k) => `  | { type: ${JSON.stringify(k.type)}; version: ${keyVersions(k).join(' | ')}; key: ${k.keyName} }`).join('\n')};\n`;
    out += `\nexport type ${family}Value =\n${kinds.map((k) => `  | { type: ${JSON.stringify(k.type)}; version: number; value: ${k.valueName} }`).join('\n')};\n`;
    out += `\n/** Key version → record type. */\nexport function ${camel(family)}TypeOf(keyVersion: number): ${family}Type | undefined {\n  switch (keyVersion) {\n`;
    for (const k of kinds) out += `${keyVersions(k).map((v) => `    case ${v}:`).join('\n')}\n      return ${JSON.stringify(k.type)};\n`;
    out += `    default:\n      return undefined;\n  }\n}\n`;
    out += `\n/** Writes the int16 key version, then the key. */\nexport function encode${family}Key(w: Writer, k: ${family}Key): void {\n  w.int16(k.version);\n  switch (k.type) {\n`;
    for (const k of kinds) out += `    case ${JSON.stringify(k.type)}:\n      encode${k.keyName}(w, k.version, k.key);\n      return;\n`;
    out += `  }\n}\n`;
    out += `\nexport function decode${family}Key(r: Reader): ${family}Key {\n  const version = r.int16('key version');\n  switch (version) {\n`;
    for (const k of kinds) {
      out += `${keyVersions(k).map((v) => `    case ${v}:`).join('\n')}\n      return { type: ${JSON.stringify(k.type)}, version, key: decode${k.keyName}(r, version) };\n`;
    }
    out += `    default:\n      throw new StrataError('ERR_DECODE', \`unknown ${family} key version \${version}\`);\n  }\n}\n`;
    out += `\n/** Writes the int16 value version, then the value (a tombstone has no value at all). */\nexport function encode${family}Value(w: Writer, v: ${family}Value): void {\n  w.int16(v.version);\n  switch (v.type) {\n`;
    for (const k of kinds) out += `    case ${JSON.stringify(k.type)}:\n      encode${k.valueName}(w, v.version, v.value);\n      return;\n`;
    out += `  }\n}\n`;
    out += `\nexport function decode${family}Value(r: Reader, type: ${family}Type): ${family}Value {\n  const version = r.int16('value version');\n  switch (type) {\n`;
    for (const k of kinds) out += `    case ${JSON.stringify(k.type)}:\n      return { type, version, value: decode${k.valueName}(r, version) };\n`;
    out += `  }\n}\n`;
    files.set(`${kebab(family)}-records.ts`, out);
  };
  coordinatorFamily('coordinator/group', 'GroupCoordinator');
  coordinatorFamily('coordinator/transaction', 'TransactionCoordinator');

  // Free-standing data structs (consumer protocol, principal, KRaft control records, quorum state).
  for (const l of all.filter((x) => (x.dir === 'message' || x.dir === 'raft') && x.raw.type === 'data')) {
    emitModule(`data/${kebab(l.raw.name)}.ts`, 2, [buildMessage(l.file, l.raw)]);
  }

  model.sort((a, b) => (a.module === b.module ? (a.name < b.name ? -1 : 1) : a.module < b.module ? -1 : 1));
  files.set('README.md', readme(specVersion, apis.length));

  // One line per struct keeps the model small and its diffs readable.
  const modelText =
    `{"generatedBy": ${JSON.stringify(header.slice(3).trim())},\n"messages": [\n` +
    model
      .map((e) => {
        const { structs, ...head } = e;
        const body = Object.entries(structs)
          .map(([name, fields]) => `  ${JSON.stringify(name)}: ${JSON.stringify(fields)}`)
          .join(',\n');
        return `${JSON.stringify(head).slice(0, -1)}, "structs": {\n${body}\n}}`;
      })
      .join(',\n') +
    '\n]}\n';
  files.set('schema-model.json', modelText);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function readme(specVersion: string, apiCount: number): string {
  return `<!-- Generated by scripts/gen-protocol.ts from Apache Kafka ${specVersion} schemas. Do not edit. -->
# src/protocol/generated

Codecs generated from Kafka's JSON message schemas (\`npm run gen\`; CI runs \`npm run gen:check\`). Never edit by
hand: change \`scripts/gen-protocol.ts\` or the hand-written runtime (\`../reader.ts\`, \`../writer.ts\`,
\`../codec-runtime.ts\`) and regenerate. Imports only from \`src/protocol\`; no I/O.

| file | contents |
|---|---|
| \`apis.ts\` | \`ApiKey\`, \`API_SCHEMAS\` (${apiCount} APIs indexed by api key), \`<Name>Api\` typed schemas, \`ApiSchemaOf<K>\` |
| \`headers.ts\` | \`RequestHeader\` v0-2, \`ResponseHeader\` v0-1 |
| \`messages/<api>.ts\` | request and response types, \`encode/decode<Name>Request/Response\`, \`default<Struct>()\` factories |
| \`metadata-records.ts\`, \`metadata/\` | KRaft \`__cluster_metadata\` records and their framing, \`METADATA_RECORD_SCHEMAS\` by type |
| \`remote-log-metadata-records.ts\`, \`remote-log-metadata/\` | \`__remote_log_metadata\` records (same framing) |
| \`group-coordinator-records.ts\`, \`transaction-coordinator-records.ts\`, \`coordinator/\` | \`__consumer_offsets\` and \`__transaction_state\` keys and values (int16 version prefixes; the key version is the record type) |
| \`data/\` | consumer protocol subscription/assignment, principal data, KRaft control records, quorum state |
| \`schema-model.json\` | the schema model (fields, versions, defaults) the round-trip property tests derive values from |

Conventions: field names are camelCase; int64 is \`bigint\`; uuid is a lowercase 8-4-4-4-12 string; bytes and
records decode as zero-copy views of the input; every struct has an optional \`unknownTaggedFields\` that round-trips.
Decoders take a \`Reader\` and leave it after the message (call \`reader.ensureEnd()\` to refuse trailing bytes);
every length is checked before anything is allocated. Encoding a non-default value into a version that lacks a
non-ignorable field, or null where the version does not allow it, throws \`ERR_ENCODE\`; a version outside the
schema's range throws \`ERR_UNSUPPORTED_VERSION\`.
`;
}

// ---- main ----------------------------------------------------------------------------------------

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

function writeTree(outDir: string, files: Map<string, string>): void {
  const keep = new Set([...files.keys()].map((p) => resolve(outDir, p)));
  for (const p of listFiles(outDir)) if (!keep.has(resolve(p))) rmSync(p);
  for (const [p, text] of files) {
    const full = join(outDir, p);
    mkdirSync(dirname(full), { recursive: true });
    if (!existsSync(full) || readFileSync(full, 'utf8') !== text) writeFileSync(full, text);
  }
}

function main(argv: string[]): number {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  let spec = resolve(root, '../shared/kafka-spec/3.9.0');
  let out = resolve(root, 'src/protocol/generated');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--spec') spec = resolve(argv[++i] ?? '');
    else if (a === '--out') out = resolve(argv[++i] ?? '');
    else if (a === '--check') check = true;
    else {
      console.error(`unknown argument ${a}`);
      return 2;
    }
  }
  const files = generate(spec);
  if (!check) {
    writeTree(out, files);
    console.log(`wrote ${files.size} files to ${relative(process.cwd(), out) || '.'}`);
    return 0;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'strata-gen-'));
  try {
    writeTree(tmp, files);
    const problems: string[] = [];
    const committed = new Set(listFiles(out).map((p) => relative(out, p)));
    for (const p of listFiles(tmp).map((x) => relative(tmp, x))) {
      if (!committed.has(p)) problems.push(`missing: ${p}`);
      else if (readFileSync(join(tmp, p), 'utf8') !== readFileSync(join(out, p), 'utf8')) problems.push(`differs: ${p}`);
      committed.delete(p);
    }
    for (const p of committed) problems.push(`not generated: ${p}`);
    if (problems.length > 0) {
      console.error(`generated protocol code is out of date (run npm run gen):\n  ${problems.join('\n  ')}`);
      return 1;
    }
    console.log(`${files.size} generated files are up to date`);
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
