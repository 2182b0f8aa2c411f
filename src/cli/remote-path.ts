/**
 * A local folder name as a Stowage folder name: Stowage accepts only letters, digits, `_` and `-` in
 * folder names, so every other character (spaces, dots…) becomes `_`, as Stowage does for file names.
 */
export const toFolderSegment = (name: string): string => name.normalize('NFC').replace(/[^\p{L}\p{M}\p{N}_-]/gu, '_');

/** `/imports` + [`photos`, `2024`] → `/imports/photos/2024`; the base is the user's `--folder`, kept as given. */
export function joinFolder(base: string, segments: readonly string[]): string {
  const parts = [...base.split('/'), ...segments].filter((part) => part.length > 0);
  return `/${parts.join('/')}`;
}

/** The file name a URL upload is stored under: the last path segment, else the host name. */
export function fileNameOfUrl(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop();
  if (!last) return url.hostname;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
