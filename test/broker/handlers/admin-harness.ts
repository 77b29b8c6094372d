// An in-process node for admin handler tests: M1's single-voter metadata quorum and controller over a
// real temp directory, this node registered and unfenced, and a metadata view over the loader's image.
// Requests and responses go through the generated codecs, as on the wire.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startMetadataQuorum, type MetadataQuorum } from '../../../src/controller/metadata-quorum.js';
import type { AdminDeps } from '../../../src/broker/controller-api.js';
import { MetadataView } from '../../../src/broker/metadata-view.js';
import { HandlerRegistry, type ApiHandler } from '../../../src/broker/registry.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { testContext } from '../helpers.js';
import type { RequestContext } from '../../../src/broker/request-context.js';

export const NODE_ID = 3;
export const CLUSTER_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

export interface AdminNode {
  readonly dir: string;
  readonly quorum: MetadataQuorum;
  readonly view: MetadataView;
  readonly deps: AdminDeps;
  readonly brokerEpoch: number;
  close(): Promise<void>;
}

export interface AdminNodeOptions {
  readonly staticConfig?: Record<string, string>;
  /** Reuse a directory (restart); a new temp dir otherwise. */
  readonly dir?: string;
  /** Keep the directory on close (for a restart). */
  readonly keep?: boolean;
}

export async function startAdminNode(opts: AdminNodeOptions = {}): Promise<AdminNode> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'strata-admin-')));
  const staticConfig = new Map(Object.entries(opts.staticConfig ?? {}));
  const quorum = await startMetadataQuorum({
    metadataLogDir: dir,
    nodeId: NODE_ID,
    clusterId: CLUSTER_ID,
    controller: {
      staticBrokerConfig: staticConfig,
      ...(staticConfig.has('num.partitions') ? { defaultNumPartitions: Number(staticConfig.get('num.partitions')) } : {}),
    },
  });
  const brokerEpoch = await quorum.controller.registerLocalBroker({
    brokerId: NODE_ID,
    incarnationId: randomUUID(),
    listeners: [
      { name: 'PLAINTEXT', host: 'broker.example', port: 9093, securityProtocol: 0 },
      { name: 'INTERNAL', host: '10.0.0.3', port: 19093, securityProtocol: 0 },
    ],
    rack: null,
  });
  const view = new MetadataView({ image: () => quorum.loader.image, nodeId: NODE_ID, staticConfig });
  return {
    dir,
    quorum,
    view,
    deps: { controller: quorum.controller, metadata: view },
    brokerEpoch,
    async close() {
      await quorum.close();
      if (opts.keep !== true) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Encodes `request` in `version`, decodes it as the server would, runs the handler, and returns the
 * response as a client decodes it.
 */
export async function call<Req, Res>(handler: ApiHandler<Req, Res>, version: number, request: Req, over: Partial<RequestContext> = {}): Promise<Res> {
  const w = new Writer();
  handler.schema.encodeRequest(w, version, request);
  const r = new Reader(w.toBuffer());
  const decoded = handler.schema.decodeRequest(r, version);
  r.ensureEnd();
  const registry = new HandlerRegistry().register(handler);
  const res = await handler.handle(testContext(registry, handler.apiKey, version, over), decoded);
  if (res === null || res === undefined) throw new Error('no response');
  const out = new Writer();
  handler.schema.encodeResponse(out, version, res);
  const rr = new Reader(out.toBuffer());
  const decodedRes = handler.schema.decodeResponse(rr, version);
  rr.ensureEnd();
  return decodedRes;
}
