import { AppError } from '../errors.js';

export interface TypePolicy {
  /** MIME types or `type/*` patterns that may be uploaded; empty allows every type not denied. */
  allowed: readonly string[];
  /** MIME types or `type/*` patterns that may never be uploaded. */
  denied: readonly string[];
}

/** Executables and libraries for Windows, Linux and macOS, as detected from their magic numbers. */
export const DEFAULT_DENIED_TYPES = [
  'application/x-msdownload',
  'application/x-dosexec',
  'application/vnd.microsoft.portable-executable',
  'application/x-msi',
  'application/x-elf',
  'application/x-executable',
  'application/x-sharedlib',
  'application/x-mach-binary',
];

const matches = (mime: string, pattern: string) => (pattern.endsWith('/*') ? mime.startsWith(pattern.slice(0, -1)) : mime === pattern);

/** @throws FILE_TYPE_NOT_ALLOWED (file) when the detected type is denied or not allowed. */
export function assertTypeAllowed(mime: string, policy: TypePolicy): void {
  const denied = policy.denied.some((p) => matches(mime, p));
  const allowed = policy.allowed.length === 0 || policy.allowed.some((p) => matches(mime, p));
  if (denied || !allowed) {
    throw new AppError('FILE_TYPE_NOT_ALLOWED', `Your request contains invalid file parameter. Files of type ${mime} are not allowed here.`, {
      parameter: 'file',
      details: { mime },
    });
  }
}
