// Publishers are how the rest of the node learns about metadata: the loader calls each one, in
// installation order, with every new image and what changed since the previous one.
import type { MetadataChanges } from './delta.js';
import type { MetadataImage } from './image.js';

export interface MetadataUpdate {
  /** 'log': committed records were applied; 'install': the publisher was installed on a non-empty image. */
  readonly kind: 'log' | 'install';
  readonly changes: MetadataChanges;
  /** The image the changes were applied to. */
  readonly previous: MetadataImage;
}

export interface MetadataPublisher {
  /** For logs and errors. */
  readonly name: string;
  /** Called in log order, never concurrently with itself; the loader waits for a returned promise. */
  onMetadataUpdate(update: MetadataUpdate, image: MetadataImage): void | Promise<void>;
  /** Called when the loader stops. */
  close?(): void | Promise<void>;
}
