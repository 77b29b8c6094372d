// Enforces the layering of ARCHITECTURE.md: a module may import only from its own layer and the
// layers listed for it here. `protocol` additionally does no I/O.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const allowed: Record<string, readonly string[]> = {
  protocol: [],
  storage: ['protocol'],
  tiered: ['storage', 'protocol'],
  replication: ['storage', 'tiered', 'protocol'],
  metadata: ['protocol'],
  raft: ['storage', 'protocol'],
  controller: ['raft', 'metadata', 'storage', 'protocol', 'config'],
  coordinator: ['replication', 'metadata', 'storage', 'tiered', 'protocol', 'config'],
  config: ['storage', 'protocol'],
  security: ['metadata', 'protocol', 'config'],
  broker: ['coordinator', 'controller', 'replication', 'tiered', 'storage', 'metadata', 'raft', 'security', 'config', 'protocol'],
  network: ['broker', 'security', 'config', 'protocol'],
  server: ['network', 'broker', 'coordinator', 'controller', 'replication', 'tiered', 'storage', 'metadata', 'raft', 'security', 'config', 'protocol'],
  http: ['server', 'network', 'broker', 'coordinator', 'controller', 'replication', 'tiered', 'storage', 'metadata', 'raft', 'security', 'config', 'protocol'],
  client: ['protocol'],
  cli: ['server', 'http', 'client', 'network', 'broker', 'coordinator', 'controller', 'replication', 'tiered', 'storage', 'metadata', 'raft', 'security', 'config', 'protocol'],
};
const ioModules = new Set(['node:fs', 'node:fs/promises', 'node:net', 'node:tls', 'node:http', 'node:https', 'node:child_process', 'node:dgram', 'fs', 'net', 'fs/promises']);

const root = resolve('src');
const problems: string[] = [];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

for (const file of walk(root)) {
  const layer = relative(root, file).split('/')[0]!;
  if (!(layer in allowed)) {
    problems.push(`${relative('.', file)}: folder src/${layer} is not a known layer (add it to scripts/check-layers.ts)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importPattern)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('.')) {
      const target = relative(root, resolve(dirname(file), spec)).split('/')[0]!;
      if (target !== layer && !allowed[layer]!.includes(target)) {
        problems.push(`${relative('.', file)}: layer '${layer}' may not import '${target}' (${spec})`);
      }
    } else if (layer === 'protocol' && ioModules.has(spec)) {
      problems.push(`${relative('.', file)}: protocol does no I/O but imports ${spec}`);
    }
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
