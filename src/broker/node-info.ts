// What request handlers may know about the node answering them. Later issues (metadata image, KRaft
// controller, features) extend this interface; handlers never reach into the server to find these facts.

export interface AdvertisedEndpoint {
  readonly listenerName: string;
  readonly securityProtocol: string;
  readonly host: string;
  readonly port: number;
}

export interface FeatureRange {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface FinalizedFeature {
  readonly name: string;
  readonly minVersionLevel: number;
  readonly maxVersionLevel: number;
}

export interface NodeFeatures {
  readonly supported: readonly FeatureRange[];
  readonly finalized: readonly FinalizedFeature[];
  /** Epoch of the finalized set; -1 while unknown (no metadata log yet). */
  readonly finalizedEpoch: bigint;
}

export interface NodeInfo {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly rack: string | null;
  /** The active controller's id, or -1 when none is known. */
  controllerId(): number;
  /** How clients reach this node through `listenerName`, or undefined if it has no such listener. */
  advertisedEndpoint(listenerName: string): AdvertisedEndpoint | undefined;
  advertisedEndpoints(): readonly AdvertisedEndpoint[];
  features(): NodeFeatures;
}
