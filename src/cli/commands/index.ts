// The client commands of `strata`: everything that talks to a running cluster as a Kafka client.
import type { Command } from 'commander';
import { registerClusterCommands } from './cluster.js';
import { registerConsumeCommand } from './consume.js';
import { registerGroupCommands } from './group.js';
import { registerProduceCommand } from './produce.js';
import { registerTopicCommands } from './topic.js';
import { registerTxnCommands } from './txn.js';

export function registerClientCommands(program: Command): void {
  registerTopicCommands(program);
  registerProduceCommand(program);
  registerConsumeCommand(program);
  registerClusterCommands(program);
  registerGroupCommands(program);
  registerTxnCommands(program);
}
