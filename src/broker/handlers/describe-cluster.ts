// DescribeCluster (key 60), v0–1: the cluster id, the brokers reachable through the listener the request
// came in on (unfenced ones, as Kafka's getAliveBrokerNodes), a controller id a client can reach and,
// when asked, the cluster's authorized operations. Brokers answer for endpoint type BROKER only (v1):
// CONTROLLER is MISMATCHED_ENDPOINT_TYPE, anything else UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST in v0).
import { DescribeClusterApi } from '../../protocol/generated/apis.js';
import type { DescribeClusterResponse } from '../../protocol/generated/messages/describe-cluster.js';
import { ErrorCode } from '../../protocol/errors.js';
import { type MetadataView, reachableBrokers, reportedControllerId } from '../metadata-view.js';
import { defineHandler } from '../registry.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS } from './metadata.js';

/** Kafka's EndpointType. */
export const EndpointType = { UNKNOWN: 0, BROKER: 1, CONTROLLER: 2 } as const;

function refused(errorCode: number, errorMessage: string): DescribeClusterResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    endpointType: EndpointType.BROKER,
    clusterId: '',
    controllerId: -1,
    brokers: [],
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export function describeClusterHandler(deps: { readonly metadata?: MetadataView } = {}) {
  return defineHandler(DescribeClusterApi, {
    minVersion: 0,
    maxVersion: 1,
    handle(ctx, request): DescribeClusterResponse {
      const type = request.endpointType;
      if (type !== EndpointType.BROKER && type !== EndpointType.CONTROLLER) {
        return refused(ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `Unsupported endpoint type ${type}`);
      }
      if (type === EndpointType.CONTROLLER) {
        return refused(
          ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
          'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
        );
      }
      const brokers = reachableBrokers(ctx, deps.metadata);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        endpointType: EndpointType.BROKER,
        clusterId: ctx.node.clusterId,
        controllerId: reportedControllerId(ctx, brokers),
        brokers: brokers.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  });
}
