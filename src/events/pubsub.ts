import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub } from 'graphql-yoga';
import type { ExtensionState } from '../db/schema.js';

export interface ExtensionStatusEvent {
  fileId: string;
  status: Record<string, ExtensionState>;
}

/** A library event, shaped like ImageKit's account webhook envelope. */
export interface FileEvent {
  id: string;
  type: string;
  createdAt: string;
  fileId: string;
  filePath: string;
  versionId: string | null;
  data: Record<string, unknown>;
}

export interface UploadProgressEvent {
  uploadId: string;
  bytesReceived: number;
  /** The declared size when the client sent one, else `null`. */
  bytesTotal: number | null;
  done: boolean;
}

/**
 * Topics of the live events. The in-memory pub/sub serves one process; the same topics over a shared event
 * target (Redis) make events independent of the process that did the work.
 */
export type Topics = {
  extensionStatus: [fileId: string, payload: ExtensionStatusEvent];
  fileEvents: [payload: FileEvent];
  uploadProgress: [uploadId: string, payload: UploadProgressEvent];
};

export type EventBus = PubSub<Topics>;

/** The in-memory bus. Every subscriber is one listener on its target, so Node's leak warning (at 10) is lifted. */
export function createEventBus(): EventBus {
  const eventTarget = new EventTarget();
  setMaxListeners(0, eventTarget);
  return createPubSub<Topics>({ eventTarget: eventTarget as never });
}
