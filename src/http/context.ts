import type { Config } from '../config.js';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import type { FolderRow } from '../db/schema.js';
import type { EventBus } from '../events/pubsub.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import type { CustomFieldService } from '../library/custom-fields.js';
import type { FileManager } from '../library/file-manager.js';
import type { AssetPage, ListAssetsOptions } from '../library/list-assets.js';
import type { UploadParams } from '../upload/request.js';

/** What resolvers may use; built once by the app, shared by every request. */
export interface Services {
  config: Config;
  files: FileRepo;
  customFields: CustomFieldService;
  uploadFile(params: UploadParams): Promise<FileView>;
  listAssets(options: ListAssetsOptions): Promise<AssetPage>;
  manager: FileManager;
  folders(path: string): Promise<FolderRow[]>;
  bus: EventBus;
  outbox: WebhookOutbox;
  webhookSecret: string;
}

export interface Context {
  services: Services;
  /** The private key the request authenticated with. */
  apiKey: string;
  /** The HTTP request's `x-request-id` (a fresh id for operations over a WebSocket). */
  requestId: string;
}
