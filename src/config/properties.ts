// Java `.properties` files (server.properties, meta.properties) read and written as Java's
// java.util.Properties does, and configuration taken from STRATA_* environment variables.
//
// Differences from Java, on purpose: files are decoded as UTF-8 (Kafka's loader reads ISO-8859-1,
// which mangles any non-ASCII text people write in UTF-8 editors; ASCII files are the same either way),
// and a malformed \uXXXX escape is reported with its line number.
import { readFile } from 'node:fs/promises';
import { StrataError } from '../protocol/strata-error.js';

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';
const isEol = (c: string): boolean => c === '\n' || c === '\r';

interface LogicalLine {
  readonly text: string;
  /** 1-based number of the natural line the logical line starts on. */
  readonly line: number;
}

/**
 * Splits `text` into logical lines exactly as Java's Properties.LineReader (JDK 9+) does: blanks
 * (space, tab, form feed) at the start of a natural line are skipped, blank lines dropped, a '#' or
 * '!' seen while the logical line is still empty starts a comment that runs to the end of the natural
 * line, and a line ending in an odd number of backslashes continues on the next natural line, whose
 * leading blanks are skipped.
 */
function* logicalLines(text: string): Generator<LogicalLine> {
  const n = text.length;
  let buf: string[] = [];
  let line = 1;
  let startLine = 1;
  let skipBlanks = true;
  let appendedLineBegin = false; // just continued: a line end right after the blanks ends the logical line
  let precedingBackslash = false;
  // CRLF is one line end: count it at the LF.
  const countEol = (i: number): void => {
    if (text[i] === '\n' || text[i + 1] !== '\n') line++;
  };

  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (skipBlanks) {
      if (isBlank(c)) continue;
      if (!appendedLineBegin && isEol(c)) {
        countEol(i);
        continue;
      }
      skipBlanks = false;
      appendedLineBegin = false;
    }
    if (buf.length === 0 && (c === '#' || c === '!')) {
      while (i < n && !isEol(text[i]!)) i++;
      if (i >= n) return;
      countEol(i);
      skipBlanks = true;
      continue;
    }
    if (!isEol(c)) {
      if (buf.length === 0) startLine = line;
      buf.push(c);
      precedingBackslash = c === '\\' ? !precedingBackslash : false;
      continue;
    }
    countEol(i);
    if (buf.length === 0) {
      skipBlanks = true;
      continue;
    }
    if (precedingBackslash && i + 1 < n) {
      buf.pop(); // the continuation backslash itself
      precedingBackslash = false;
      skipBlanks = true;
      appendedLineBegin = true;
      if (c === '\r' && text[i + 1] === '\n') countEol(++i);
      continue;
    }
    // Java keeps a line that becomes empty once its final backslash is dropped: it is the key "".
    if (precedingBackslash) buf.pop();
    yield { text: buf.join(''), line: startLine };
    buf = [];
    precedingBackslash = false;
    skipBlanks = true;
  }
  if (buf.length > 0) {
    if (precedingBackslash) buf.pop(); // a continuation at end of file continues into nothing
    yield { text: buf.join(''), line: startLine };
  }
}

const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Resolves escapes: \t \n \r \f, \uXXXX, and \c → c for any other c. */
function unescape(s: string, line: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    i++;
    if (i >= s.length) break; // a lone trailing backslash escapes nothing
    const e = s[i]!;
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!HEX4.test(hex)) {
          throw new StrataError('ERR_CONFIG', `Malformed \\uXXXX escape on line ${line} of properties: '\\u${hex}'`);
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        out += e;
    }
  }
  return out;
}

/** Splits a logical line into key and value: the key ends at the first unescaped '=', ':' or blank. */
function splitKeyValue(text: string): [string, string] {
  let keyEnd = 0;
  let valueStart = text.length;
  let hasSeparator = false;
  let precedingBackslash = false;
  for (; keyEnd < text.length; keyEnd++) {
    const c = text[keyEnd]!;
    if ((c === '=' || c === ':') && !precedingBackslash) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (isBlank(c) && !precedingBackslash) {
      valueStart = keyEnd + 1;
      break;
    }
    precedingBackslash = c === '\\' ? !precedingBackslash : false;
  }
  // Blanks, then at most one '=' or ':' (unless one ended the key), then blanks.
  while (valueStart < text.length) {
    const c = text[valueStart]!;
    if (!isBlank(c)) {
      if (!hasSeparator && (c === '=' || c === ':')) hasSeparator = true;
      else break;
    }
    valueStart++;
  }
  return [text.slice(0, keyEnd), text.slice(valueStart)];
}

/** Parses the text of a `.properties` file. Later duplicates of a key replace earlier ones. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (const { text: lineText, line } of logicalLines(body)) {
    const [key, value] = splitKeyValue(lineText);
    out.set(unescape(key, line), unescape(value, line));
  }
  return out;
}

/** Reads and parses a `.properties` file (UTF-8). */
export async function readPropertiesFile(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new StrataError('ERR_CONFIG', `cannot read properties file ${path}`, { cause });
  }
  try {
    return parseProperties(text);
  } catch (cause) {
    throw new StrataError('ERR_CONFIG', `${path}: ${(cause as Error).message}`, { cause });
  }
}

function escape(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = c.charCodeAt(0);
    switch (c) {
      case ' ':
        // In a key every blank would end it; in a value only a leading one would be skipped.
        out += isKey || i === 0 ? '\\ ' : ' ';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\\':
      case '=':
      case ':':
      case '#':
      case '!':
        out += `\\${c}`;
        break;
      default:
        out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : c;
    }
  }
  return out;
}

/** Writes properties so that parseProperties (and Java) read back exactly the same map. */
export function stringifyProperties(
  props: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  comment?: string,
): string {
  const entries = props instanceof Map ? [...props.entries()] : Object.entries(props);
  const lines: string[] = [];
  if (comment !== undefined) for (const c of comment.split(/\r\n|\r|\n/)) lines.push(`#${c}`);
  for (const [k, v] of entries) lines.push(`${escape(k, true)}=${escape(v, false)}`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Environment variables
//
// STRATA_<NAME> sets the configuration key derived from <NAME>: lower-cased, and each run of
// underscores replaced — one `_` by `.`, two `__` by `_`, three `___` by `-` (the convention of the
// common Kafka container images). So STRATA_LOG_RETENTION_MS → log.retention.ms and
// STRATA_LISTENER_NAME_INTERNAL_SSL__X → listener.name.internal.ssl_x. Longer runs are split into
// threes from the left, then the rest (`____` → `-.`). Limitation: a key with upper-case letters
// cannot be spelled (Kafka's own keys are all lower-case; listener names inside listener.name.*
// keys are matched case-insensitively by Kafka).

export const ENV_PREFIX = 'STRATA_';

/** `LOG_RETENTION_MS` → `log.retention.ms` (the part after the prefix). */
export function envNameToKey(name: string): string {
  return name.toLowerCase().replace(/_+/g, (run) => {
    let n = run.length;
    let out = '';
    while (n >= 3) {
      out += '-';
      n -= 3;
    }
    return out + (n === 2 ? '_' : n === 1 ? '.' : '');
  });
}

/** `log.retention.ms` → `STRATA_LOG_RETENTION_MS`. */
export function keyToEnvName(key: string, prefix = ENV_PREFIX): string {
  return prefix + key.replace(/[._-]/g, (c) => (c === '.' ? '_' : c === '_' ? '__' : '___')).toUpperCase();
}

/** The configuration keys set through `STRATA_*` variables of `env`. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, prefix = ENV_PREFIX): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(prefix) || name.length === prefix.length) continue;
    out.set(envNameToKey(name.slice(prefix.length)), value);
  }
  return out;
}
