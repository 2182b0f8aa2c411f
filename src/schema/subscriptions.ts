import { setTimeout as sleep } from 'node:timers/promises';
import type { ExtensionState } from '../db/schema.js';
import type { FileEvent, UploadProgressEvent } from '../events/pubsub.js';
import { FILE_EVENT_TYPES } from '../events/library-events.js';
import { fileNotFound } from '../errors.js';
import { SHARED_EXECUTION } from '../http/shared-subscriptions.js';
import { normalizeFolder } from '../upload/naming.js';
import { builder } from './builder.js';
import { assertFileId } from './file.js';

const RECHECK_MS = 1000;

const ExtensionStatusUpdate = builder.objectRef<{ fileId: string; status: Record<string, ExtensionState> }>('ExtensionStatusUpdate').implement({
  fields: (t) => ({
    fileId: t.exposeID('fileId'),
    status: t.field({ type: 'JSONObject', resolve: (u) => u.status, description: '`{"google-auto-tagging": "success", "remove-bg": "pending"}`' }),
    done: t.boolean({ resolve: (u) => !Object.values(u.status).includes('pending'), description: 'No extension is pending any more; the subscription completes after this.' }),
  }),
});

const FileEventRef = builder.objectRef<FileEvent>('FileEvent').implement({
  description: 'A library event; `type` and `data` are those of the account webhook with the same id.',
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.exposeString('type', { description: FILE_EVENT_TYPES.join(', ') }),
    createdAt: t.exposeString('createdAt'),
    fileId: t.exposeID('fileId'),
    filePath: t.exposeString('filePath'),
    versionId: t.exposeID('versionId', { nullable: true }),
    data: t.field({ type: 'JSONObject', resolve: (e) => e.data }),
  }),
});

const UploadProgress = builder.objectRef<UploadProgressEvent>('UploadProgress').implement({
  fields: (t) => ({
    uploadId: t.exposeString('uploadId'),
    bytesReceived: t.exposeFloat('bytesReceived'),
    bytesTotal: t.exposeFloat('bytesTotal', { nullable: true, description: 'Known for base64 and for URLs that send Content-Length.' }),
    done: t.exposeBoolean('done'),
  }),
});

builder.subscriptionType({});

builder.subscriptionField('extensionStatus', (t) =>
  t.field({
    type: ExtensionStatusUpdate,
    description: 'The file\'s extension status now, then at every change; completes when nothing is pending.',
    args: { fileId: t.arg.id({ required: true }) },
    subscribe: async function* (_root, args, ctx) {
      const fileId = String(args.fileId);
      assertFileId(fileId);
      const read = async () => {
        const view = await ctx.services.files.findById(fileId);
        if (!view) throw fileNotFound();
        return view.version.extensionStatus ?? {};
      };
      const events = ctx.services.bus.subscribe('extensionStatus', fileId)[Symbol.asyncIterator]();
      let last = '';
      try {
        for (;;) {
          const status = await read();
          const key = JSON.stringify(status);
          if (key !== last) {
            last = key;
            yield { fileId, status };
          }
          if (!Object.values(status).includes('pending')) return;
          // An event, or a periodic re-read (events published before this listener existed are not missed).
          await Promise.race([events.next(), sleep(RECHECK_MS)]);
        }
      } finally {
        await events.return?.();
      }
    },
    resolve: (update) => update,
  }),
);

builder.subscriptionField('fileEvents', (t) =>
  t.field({
    type: FileEventRef,
    description: 'Library events as they happen, optionally only under a folder and of some types.',
    // Events and arguments only: subscribers of the same operation share one execution per event.
    extensions: { [SHARED_EXECUTION]: true },
    args: {
      path: t.arg.string({ description: 'Only files in this folder or below it.' }),
      types: t.arg.stringList({ description: `Only these types: ${FILE_EVENT_TYPES.join(', ')}.` }),
    },
    subscribe: async function* (_root, args, ctx) {
      const folder = args.path ? normalizeFolder(args.path) : '/';
      const prefix = folder === '/' ? '/' : `${folder}/`;
      for await (const event of ctx.services.bus.subscribe('fileEvents')) {
        if (!event.filePath.startsWith(prefix)) continue;
        if (args.types?.length && !args.types.includes(event.type)) continue;
        yield event;
      }
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField('uploadProgress', (t) =>
  t.field({
    type: UploadProgress,
    description: 'Bytes received for an upload sent with the same `uploadId`; completes when the upload\'s bytes are in.',
    extensions: { [SHARED_EXECUTION]: true },
    args: { uploadId: t.arg.string({ required: true }) },
    subscribe: async function* (_root, args, ctx) {
      for await (const event of ctx.services.bus.subscribe('uploadProgress', args.uploadId)) {
        yield event;
        if (event.done) return;
      }
    },
    resolve: (event) => event,
  }),
);
