import { AppError } from '../errors.js';
import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import { FileTxQueries, type FileView } from '../db/repos/file-repo.js';
import type { AITag, ExtensionState, FileRow } from '../db/schema.js';
import type { FileAnalysis } from './analyze-file.js';
import { joinFilePath } from './naming.js';

export const MAX_VERSIONS = 100;

/** What the upload pipeline learnt about the stored bytes and what the request asked for. */
export interface NewVersion extends FileAnalysis {
  versionId: string;
  blobKey: string;
  folder: string;
  /** Picks the stored name; called again if a name taken by another file must be avoided. */
  chooseName: () => string;
  useUniqueFileName: boolean;
  overwriteFile: boolean;
  overwriteTags: boolean;
  overwriteAITags: boolean;
  size: number;
  mime: string;
  sha256: string;
  fileType: 'image' | 'non-image';
  tags: string[] | null;
  customCoordinates: string | null;
  description: string | null;
  isPrivateFile: boolean;
  isPublished: boolean;
  /** The custom metadata the new version gets, given the current version's (or `null` for a new file). */
  resolveCustomMetadata: (previous: Record<string, unknown> | null) => Record<string, unknown> | null;
  extensionStatus: Record<string, ExtensionState> | null;
  /** Commit only if this is still the file's current version (for versions Stowage makes from another one). */
  onlyOnTopOf?: { fileId: string; versionId: string };
  /** Runs inside the transaction once the rows are written (to queue events that commit with them). */
  onCommit?: (tx: Tx, view: FileView, created: boolean) => Promise<void>;
}

/** The file changed (a newer version, a move, a deletion) since the version a derived one was made from. */
export class VersionSupersededError extends Error {
  override readonly name = 'VersionSupersededError';
}

export const fileAlreadyExists = () =>
  new AppError(
    'FILE_ALREADY_EXISTS',
    'A file with the same name already exists at the exact location. We could not overwrite it because both overwriteFile and useUniqueFileName are set to false.',
    { parameter: 'overwriteFile' },
  );

export const versionLimitReached = (filePath: string) =>
  new AppError('VERSION_LIMIT_REACHED', `The file ${filePath} already has ${MAX_VERSIONS} versions, the most a file can have. Delete old versions or upload under another name.`, {
    parameter: 'fileName',
    details: { maxVersions: MAX_VERSIONS },
  });

/**
 * Records an uploaded blob, in one IMMEDIATE transaction: creates missing folders, then either a new file
 * (whose id is the version id) or a new version of the file at that path. Concurrent commits to one path
 * serialise on the write lock, so each gets its own version number and none is lost.
 * @throws FILE_ALREADY_EXISTS, VERSION_LIMIT_REACHED; nothing is written then.
 */
export function commitVersion(transactor: Transactor, v: NewVersion, now = new Date()): Promise<FileView> {
  return transactor.transaction(
    async (tx) => {
      const q = new FileTxQueries(tx, transactor.tables);
      await q.ensureFolders(v.folder, now);

      let name = v.chooseName();
      let existing = await q.findFileByPath(joinFilePath(v.folder, name));
      for (let attempt = 0; existing && v.useUniqueFileName && attempt < 10; attempt++) {
        name = v.chooseName();
        existing = await q.findFileByPath(joinFilePath(v.folder, name));
      }
      const filePath = joinFilePath(v.folder, name);
      const base = v.onlyOnTopOf;
      if (base && (existing?.id !== base.fileId || existing.currentVersionId !== base.versionId)) {
        throw new VersionSupersededError(`${filePath} no longer has version ${base.versionId} as its current version`);
      }

      const attributes = {
        id: v.versionId,
        blobKey: v.blobKey,
        size: v.size,
        mime: v.mime,
        format: v.format,
        hasTransparency: v.hasTransparency,
        sha256: v.sha256,
        pHash: v.pHash,
        embeddedMetadata: v.embeddedMetadata,
        analysis: v.analysis,
        duration: v.duration,
        bitRate: v.bitRate,
        videoCodec: v.videoCodec,
        audioCodec: v.audioCodec,
        extensionStatus: v.extensionStatus,
        fileType: v.fileType,
        width: v.width,
        height: v.height,
        customCoordinates: v.customCoordinates,
        description: v.description,
        isPrivateFile: v.isPrivateFile,
        isPublished: v.isPublished,
        folderPath: v.folder,
        name,
        isCurrent: true,
        createdAt: now,
        updatedAt: now,
      };

      if (!existing) {
        const file = { id: v.versionId, filePath, folderPath: v.folder, name, currentVersionId: v.versionId, versionCounter: 1, createdAt: now, updatedAt: now };
        await q.insertFile(file);
        const version = await q.insertVersion({ ...attributes, fileId: file.id, fileCreatedAt: now, number: 1, tags: v.tags, aiTags: null, customMetadata: v.resolveCustomMetadata(null) });
        await v.onCommit?.(tx, { file, version }, true);
        return { file, version };
      }

      if (!v.overwriteFile) throw fileAlreadyExists();
      if ((await q.countVersions(existing.id)) >= MAX_VERSIONS) throw versionLimitReached(filePath);
      const previous = await q.findVersionRow(existing.currentVersionId);
      const number = existing.versionCounter + 1;
      await q.updateVersionsOf(existing.id, { isCurrent: false });
      const version = await q.insertVersion({
        ...attributes,
        fileId: existing.id,
        fileCreatedAt: existing.createdAt,
        number,
        customMetadata: v.resolveCustomMetadata(previous?.customMetadata ?? null),
        tags: v.tags ?? (v.overwriteTags ? null : (previous?.tags ?? null)),
        aiTags: v.overwriteAITags ? null : ((previous?.aiTags as AITag[] | null) ?? null),
      });
      const file = (await q.updateFile(existing.id, { currentVersionId: version.id, versionCounter: number, updatedAt: now })) as FileRow;
      await v.onCommit?.(tx, { file, version }, false);
      return { file, version };
    },
    // Everything a commit reads and writes is under its folder (the name it picks, the file there, its versions).
    { behavior: 'immediate', locks: [`folder:${v.folder}`] },
  );
}
