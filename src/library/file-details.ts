import type { FileView } from '../db/repos/file-repo.js';
import { fileUrl, thumbnailUrl } from '../delivery/urls.js';

/** ImageKit's file details object (reference 8b), as webhooks carry it. */
export function toFileDetails(view: FileView, urlEndpoint: string): Record<string, unknown> {
  const { file, version } = view;
  const current = version.id === file.currentVersionId;
  return {
    type: current ? 'file' : 'file-version',
    fileId: file.id,
    name: file.name,
    filePath: file.filePath,
    tags: version.tags?.length ? version.tags : null,
    AITags: version.aiTags?.length ? version.aiTags : null,
    versionInfo: { id: version.id, name: `Version ${version.number}` },
    isPrivateFile: version.isPrivateFile,
    isPublished: version.isPublished,
    customCoordinates: version.customCoordinates,
    url: fileUrl(urlEndpoint, view),
    thumbnail: thumbnailUrl(urlEndpoint, view),
    fileType: version.fileType,
    mime: version.mime,
    width: version.width,
    height: version.height,
    size: version.size,
    hasAlpha: version.hasTransparency ?? false,
    customMetadata: version.customMetadata ?? {},
    embeddedMetadata: version.embeddedMetadata ?? {},
    description: version.description,
    extensionStatus: version.extensionStatus ?? undefined,
    ...(version.duration !== null ? { duration: version.duration, bitRate: version.bitRate, videoCodec: version.videoCodec, audioCodec: version.audioCodec } : {}),
    createdAt: (current ? file.createdAt : version.createdAt).toISOString(),
    updatedAt: version.updatedAt.toISOString(),
  };
}
