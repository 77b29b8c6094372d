// The other half of the golden captures (test/protocol/golden.test.ts checks that we decode what real clients
// send): here real clients decode what we send. Each client's recorded scenario (scripts/record-golden.ts)
// runs against a live `strata start`; a step that succeeds is a client that parsed our responses. Once
// Produce and Fetch exist, kcat reads back everything every client produced with check.crcs=true, i.e.
// librdkafka verifies the CRC of each batch after we patched its offsets.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { decodeRequestHeader, decodeResponseHeader } from '../../src/protocol/generated/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';
import {
  CLIENTS,
  GOLDEN_TIMESTAMP,
  REPO,
  TOPIC,
  clientAvailable,
  createGoldenTopics,
  goldenRecords,
  kcatConsume,
  missingApis,
  parseKcatRecords,
  probeBrokerApis,
  scenario,
  schemaOf,
  type BrokerApis,
  type ClientName,
  type ConsumedRecord,
  type GoldenIndex,
  type GoldenRecord,
  type Step,
} from '../../scripts/record-golden.js';

const NODE_ID = 5;
let strata: StrataProcess;
let apis: BrokerApis;
/** Why the per-client topics cannot be created (an API is missing), or null. */
let noTopics: string | null = null;
/** Creating them failed although the broker serves CreateTopics: the produce steps fail with this. */
let topicError: Error | null = null;
const available = new Map<ClientName, boolean>();
/** What each client's successful produce steps sent, in order: what kcat must read back. */
const produced = new Map<ClientName, GoldenRecord[]>();

before(async () => {
  // Kafka's 3 s wait for more members before the first rebalance only slows the group steps down here.
  strata = await startStrata(['--override', 'group.initial.rebalance.delay.ms=0'], { nodeId: NODE_ID });
  apis = await probeBrokerApis('127.0.0.1', strata.port);
  for (const c of CLIENTS) available.set(c, await clientAvailable(c));
  const missing = missingApis(apis, [ApiKey.CreateTopics]);
  if (missing.length > 0) noTopics = `broker does not serve ${missing.join(', ')} (the produce steps need their topic)`;
  else await createGoldenTopics(`127.0.0.1:${strata.port}`, Object.values(TOPIC)).catch((err: unknown) => (topicError = err as Error));
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

/** The reason a step cannot run here, or null. */
function skipReason(step: Step): string | null {
  if (!available.get(step.client)) return `${step.client} not installed (scripts/install-test-deps.sh)`;
  const missing = missingApis(apis, step.requires);
  if (missing.length > 0) return `broker does not serve ${missing.join(', ')}`;
  if (step.needsTopic && noTopics !== null) return noTopics;
  return null;
}

const bootstrap = (): string => `127.0.0.1:${strata.port}`;

interface ClusterView {
  readonly clusterId?: string;
  readonly controllerId: number;
  readonly brokers: readonly (readonly [number, string, number])[];
}

/** What the metadata step printed, per client, in one shape. */
function clusterView(client: ClientName, stdout: string): ClusterView {
  const out = JSON.parse(stdout) as Record<string, unknown>;
  switch (client) {
    case 'kcat': {
      const brokers = out.brokers as { id: number; name: string }[];
      return {
        controllerId: out.controllerid as number,
        brokers: brokers.map((b) => {
          const [host, port] = b.name.split(':');
          return [b.id, host!, Number(port)] as const;
        }),
      };
    }
    case 'confluent-kafka-python':
    case 'kafka-python':
      return { clusterId: out.cluster_id as string, controllerId: out.controller_id as number, brokers: out.brokers as [number, string, number][] };
    case 'kafkajs': {
      const brokers = out.brokers as { nodeId: number; host: string; port: number }[];
      return { clusterId: out.clusterId as string, controllerId: out.controller as number, brokers: brokers.map((b) => [b.nodeId, b.host, b.port] as const) };
    }
  }
}

/** Offsets a produce step reports, when the client reports them. */
function producedOffsets(client: ClientName, stdout: string): number[] | null {
  switch (client) {
    case 'kcat':
      return null;
    case 'confluent-kafka-python':
    case 'kafka-python':
      return (JSON.parse(stdout) as { offsets: number[] }).offsets;
    case 'kafkajs': {
      const res = JSON.parse(stdout) as { errorCode: number; baseOffset: string }[];
      assert.equal(res.length, 1);
      assert.equal(res[0]!.errorCode, 0);
      const base = Number(res[0]!.baseOffset);
      return Array.from({ length: goldenRecords(client, 'none').length }, (_, i) => base + i);
    }
  }
}

/**
 * What reading back `client`'s topic must give: everything its produce steps sent, in order from offset 0, with
 * the CreateTime it set; kcat's own records carry the time librdkafka stamped on them instead.
 */
function expectedRecords(client: ClientName, got: readonly ConsumedRecord[]): ConsumedRecord[] {
  return (produced.get(client) ?? []).map((r, i) => {
    const stamped = got[i]?.timestamp ?? -1;
    if (client === 'kcat') assert.ok(stamped > GOLDEN_TIMESTAMP, `record ${i}: a current CreateTime`);
    return { offset: i, timestamp: client === 'kcat' ? stamped : r.timestamp, key: r.key, value: r.value };
  });
}

for (const client of CLIENTS) {
  describe(`${client} runs its golden scenario against strata start`, () => {
    for (const step of scenario(client).filter((s) => s.name !== 'consume')) {
      test(`${step.name}: ${step.description}`, async (t) => {
        const reason = skipReason(step);
        if (reason !== null) return t.skip(reason);
        if (step.needsTopic && topicError !== null) throw new Error(`creating the topics failed: ${topicError.message}`, { cause: topicError });
        const out = await step.run(bootstrap());
        if (step.name === 'consume-group') {
          // Through FindCoordinator, JoinGroup, SyncGroup, OffsetFetch and Fetch: kafkajs parsed all of those.
          const got = client === 'kcat' ? parseKcatRecords(out.stdout) : (JSON.parse(out.stdout) as ConsumedRecord[]);
          assert.deepEqual(got, expectedRecords(client, got));
          return;
        }
        if (!step.name.startsWith('produce-')) {
          const view = clusterView(client, out.stdout);
          if (view.clusterId !== undefined) assert.equal(view.clusterId, strata.clusterId);
          assert.equal(view.controllerId, NODE_ID);
          assert.deepEqual(view.brokers, [[NODE_ID, '127.0.0.1', strata.port]]);
          return;
        }
        const sent = goldenRecords(client, step.name.slice('produce-'.length));
        const before = produced.get(client) ?? [];
        const offsets = producedOffsets(client, out.stdout);
        if (offsets !== null) assert.deepEqual(offsets, sent.map((_, i) => before.length + i), 'offsets follow on from the previous steps');
        produced.set(client, [...before, ...sent]);
      });
    }
  });
}

test('kcat reads back what every client produced, with librdkafka checking each batch CRC', async (t) => {
  const consume = scenario('kcat').find((s) => s.name === 'consume')!;
  const reason = skipReason(consume);
  if (reason !== null) return t.skip(reason);
  if (produced.size === 0) return t.skip('nothing was produced (see the produce steps)');
  for (const [client, records] of produced) {
    const got = parseKcatRecords((await kcatConsume(bootstrap(), TOPIC[client])).stdout);
    assert.deepEqual(got, expectedRecords(client, got), `${client}: everything it produced, in order, at offsets 0..${records.length - 1}`);
  }
});

test('the recorder runs end to end: kafkajs through its proxy into a fresh fixture directory', async () => {
  const out = await mkdtemp(join(tmpdir(), 'strata-golden-rec-'));
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/record-golden.ts'), '--only', 'kafkajs'], {
      cwd: REPO,
      env: { ...process.env, STRATA_GOLDEN_DIR: out },
      timeout: 120_000,
    });
    const dir = join(out, 'kafkajs');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as GoldenIndex;
    assert.deepEqual(index.steps.filter((s) => s.status === 'failed'), []);
    assert.equal(index.steps.find((s) => s.step === 'describe-cluster')?.status, 'recorded');
    const names = new Set(index.exchanges.map((e) => e.apiName));
    assert.ok(names.has('ApiVersions') && names.has('Metadata'), [...names].join(', '));
    for (const e of index.exchanges) {
      const schema = schemaOf(e.apiKey)!;
      const req = new Reader(await readFile(join(dir, `${e.file}.req.bin`)));
      assert.equal(decodeRequestHeader(req, schema.requestHeaderVersion(e.apiVersion)).correlationId, e.correlationId);
      schema.decodeRequest(req, e.apiVersion);
      req.ensureEnd();
      if (e.responseBytes === null) {
        // Only a long-polling Fetch may still be waiting when the consumer leaves.
        assert.equal(e.apiName, 'Fetch', `${e.file}: unanswered`);
        continue;
      }
      const res = new Reader(await readFile(join(dir, `${e.file}.res.bin`)));
      assert.equal(decodeResponseHeader(res, schema.responseHeaderVersion(e.apiVersion)).correlationId, e.correlationId);
      schema.decodeResponse(res, e.apiVersion);
      res.ensureEnd();
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
