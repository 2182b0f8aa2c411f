import type { FileView } from '../db/repos/file-repo.js';
import { hasThumbnail } from './thumbnail.js';

/** The named transformation ImageKit puts in every image's `thumbnailUrl`. */
export const THUMBNAIL_TRANSFORMATION = 'n-ik_ml_thumbnail';
export const VERSION_QUERY_PARAM = 'ik-obj-version';

/** `/a b/ü.jpg` → `a%20b/%C3%BC.jpg`: each segment percent-encoded, slashes kept. */
export const encodeFilePath = (filePath: string): string =>
  filePath
    .split('/')
    .filter(Boolean)
    .map((s) => encodeURIComponent(s))
    .join('/');

const versionQuery = (view: FileView) =>
  view.version.id === view.file.currentVersionId ? '' : `?${VERSION_QUERY_PARAM}=${view.version.id}`;

/** `<urlEndpoint>/<filePath>`, plus the version parameter for a non-current version. */
export const fileUrl = (urlEndpoint: string, view: FileView): string =>
  `${urlEndpoint}/${encodeFilePath(view.file.filePath)}${versionQuery(view)}`;

/** `<urlEndpoint>/tr:n-ik_ml_thumbnail/<filePath>` for images and videos; `null` for other files. */
export const thumbnailUrl = (urlEndpoint: string, view: FileView): string | null =>
  hasThumbnail(view.version)
    ? `${urlEndpoint}/tr:${THUMBNAIL_TRANSFORMATION}/${encodeFilePath(view.file.filePath)}${versionQuery(view)}`
    : null;
