import { dirname, isAbsolute } from 'node:path';

/** A `/` opening a token (at the start, or after a space, quote, bracket, `=`, `,` or `:`) up to where the token ends. */
const ABSOLUTE_PATH = /(^|[\s'"(\[=,:])\/[^\s'"()[\],:]+/g;
/** ffmpeg names each component by its heap address: `[h264 @ 0x55d0c2a4e600]`. */
const COMPONENT_ADDRESS = /\s*@\s*0x[0-9a-f]+/gi;
const HEX_NUMBER = /\b0x[0-9a-f]+\b/gi;

/**
 * A child process's output made fit for an error message a client reads: the local paths in it (the data
 * directory, temp dirs, the executable's own) become `<file>`, and hexadecimal numbers (heap addresses, file
 * offsets) `<hex>`. `knownPaths` (e.g. the command and its arguments) are replaced literally first, so a path
 * with spaces in it goes too. The one sanitizer for whatever ffmpeg or ffprobe says.
 */
export function redactProcessOutput(text: string, knownPaths: readonly string[] = []): string {
  const literal = knownPaths
    .filter((p) => isAbsolute(p))
    .flatMap((p) => [p, dirname(p)])
    .filter((p) => p.length > 1)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const path of literal) out = out.split(path).join('<file>');
  return out.replace(ABSOLUTE_PATH, '$1<file>').replace(COMPONENT_ADDRESS, '').replace(HEX_NUMBER, '<hex>');
}
