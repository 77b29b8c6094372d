// A metadata quorum (storage log + single-voter Raft + loader + controller) on a temporary directory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type MetadataQuorum, type MetadataQuorumOptions, startMetadataQuorum } from '../../src/controller/metadata-quorum.js';
import type { BrokerRegistrationRequest } from '../../src/controller/results.js';

export const CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qk';
export const LOG_DIR_ID = '5b4b1c0e-8f0c-4d39-9a6f-5a1c8f0e2d11';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-controller-'));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

export function openQuorum(dir: string, opts: Partial<MetadataQuorumOptions> = {}): Promise<MetadataQuorum> {
  return startMetadataQuorum({ metadataLogDir: dir, nodeId: 1, clusterId: CLUSTER_ID, ...opts });
}

export function brokerRegistration(brokerId: number, incarnationId: string): BrokerRegistrationRequest {
  return {
    brokerId,
    incarnationId,
    listeners: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }],
    rack: null,
    features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 21 }],
    logDirs: [LOG_DIR_ID],
  };
}

/** Opens the quorum and registers + unfences broker 1 with a fresh incarnation; returns the broker epoch too. */
export async function openWithBroker(dir: string, opts: Partial<MetadataQuorumOptions> = {}): Promise<{ q: MetadataQuorum; epoch: number }> {
  const q = await openQuorum(dir, opts);
  const epoch = await q.controller.registerLocalBroker(brokerRegistration(1, crypto.randomUUID()));
  return { q, epoch };
}
