// `meta.properties`, the identity file Kafka keeps in every log directory (KRaft format, version=1): the
// cluster id, this node's id and the directory's own id. Written on first start, checked on every later
// one, so a data directory is never silently reused by another node or cluster.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../protocol/strata-error.js';
import { parseProperties } from '../config/properties.js';

export const META_PROPERTIES_FILE = 'meta.properties';

export interface MetaProperties {
  readonly clusterId: string;
  readonly nodeId: number;
  readonly directoryId: string;
}

/**
 * A Kafka-style Uuid string: 16 random bytes (version-4 layout) in unpadded base64url, 22 characters.
 * Like Kafka we never hand out one starting with '-', which command-line tools would take for an option.
 */
export function randomKafkaUuid(): string {
  for (;;) {
    const bytes = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
    const s = bytes.toString('base64url');
    if (!s.startsWith('-') && !bytes.equals(Buffer.alloc(16))) return s;
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StrataError('ERR_STORAGE', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes via a temporary file, fsync and rename, so a crash never leaves a half-written identity. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text);
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * Makes sure every log directory exists and carries a meta.properties for `nodeId`, creating them on first
 * start. The cluster id is taken from any directory that has one (a new one is generated otherwise); a
 * directory that names another node or cluster is refused.
 */
export async function ensureMetaProperties(logDirs: readonly string[], nodeId: number): Promise<MetaProperties> {
  const found: { dir: string; props: Map<string, string> }[] = [];
  for (const dir of logDirs) {
    await mkdir(dir, { recursive: true });
    const text = await readIfExists(join(dir, META_PROPERTIES_FILE));
    if (text !== null) found.push({ dir, props: parseProperties(text) });
  }
  let clusterId: string | undefined;
  for (const { dir, props } of found) {
    const version = props.get('version');
    if (version !== '1') {
      throw new StrataError('ERR_STORAGE', `${join(dir, META_PROPERTIES_FILE)}: unsupported version ${version ?? '(none)'}, expected 1`);
    }
    const storedNode = Number(props.get('node.id'));
    if (storedNode !== nodeId) {
      throw new StrataError('ERR_CONFIG', `Stored node id ${props.get('node.id')} in ${dir} doesn't match the configured node.id ${nodeId}`);
    }
    const storedCluster = props.get('cluster.id');
    if (storedCluster === undefined || storedCluster === '') {
      throw new StrataError('ERR_STORAGE', `${join(dir, META_PROPERTIES_FILE)} has no cluster.id`);
    }
    if (clusterId !== undefined && clusterId !== storedCluster) {
      throw new StrataError('ERR_STORAGE', `log directories belong to different clusters: ${clusterId} and ${storedCluster} (in ${dir})`);
    }
    clusterId = storedCluster;
  }
  clusterId ??= randomKafkaUuid();
  let first: MetaProperties | undefined;
  for (const dir of logDirs) {
    const existing = found.find((f) => f.dir === dir);
    let directoryId = existing?.props.get('directory.id');
    if (existing === undefined || directoryId === undefined) {
      directoryId ??= randomKafkaUuid();
      const text =
        `#\n#${new Date().toString()}\n` +
        `cluster.id=${clusterId}\ndirectory.id=${directoryId}\nnode.id=${nodeId}\nversion=1\n`;
      await writeAtomically(join(dir, META_PROPERTIES_FILE), text);
    }
    first ??= { clusterId, nodeId, directoryId };
  }
  if (first === undefined) throw new StrataError('ERR_CONFIG', 'no log directory configured');
  return first;
}

