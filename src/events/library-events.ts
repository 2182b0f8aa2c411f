import type { Tx } from '../db/client.js';
import type { FileView } from '../db/repos/file-repo.js';
import { toFileDetails } from '../library/file-details.js';
import { createEventEnvelope, type WebhookOutbox } from '../webhooks/outbox.js';
import type { EventBus, FileEvent } from './pubsub.js';

export type FileEventType = 'file.created' | 'file.updated' | 'file.deleted' | 'file-version.created' | 'file-version.deleted';
export const FILE_EVENT_TYPES: readonly FileEventType[] = ['file.created', 'file.updated', 'file.deleted', 'file-version.created', 'file-version.deleted'];

/**
 * Library events, delivered twice: durably to webhook endpoints through the outbox (written in the caller's
 * transaction), and live to subscribers through the event bus once the transaction has committed.
 */
export class LibraryEvents {
  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly bus: EventBus,
    private readonly urlEndpoint: string,
  ) {}

  /** Writes the event to the outbox inside `tx`; publish the returned event after the commit. */
  async record(tx: Tx, type: FileEventType, view: FileView): Promise<FileEvent> {
    const data =
      type === 'file.deleted'
        ? { fileId: view.file.id }
        : type === 'file-version.deleted'
          ? { fileId: view.file.id, versionId: view.version.id }
          : toFileDetails(view, this.urlEndpoint);
    const envelope = createEventEnvelope(type, data);
    await this.outbox.toEndpoints(tx, envelope);
    return {
      id: envelope.id,
      type,
      createdAt: String(envelope.body.created_at),
      fileId: view.file.id,
      filePath: view.file.filePath,
      versionId: view.version.id,
      data,
    };
  }

  publish(events: readonly FileEvent[]): void {
    for (const event of events) this.bus.publish('fileEvents', event);
  }
}
