/**
 * The ffmpeg demuxers Stowage lets ffprobe/ffmpeg use on uploaded files (`-format_whitelist`). Playlist and
 * indirection demuxers (hls, dash, concat, image2, …) are left out on purpose: an uploaded `.m3u8` or
 * concat list would otherwise make ffmpeg open other local files or URLs named inside it. With
 * `-protocol_whitelist file`, ffmpeg can only read the file it was given.
 */
export const DEFAULT_MEDIA_DEMUXERS: readonly string[] = [
  'mov', // mov, mp4, m4a, 3gp, 3g2, mj2
  'matroska', // mkv, webm
  'avi',
  'flv',
  'mpegts',
  'mpeg', // MPEG-PS, VOB
  'mpegvideo',
  'asf', // wmv, wma
  'ogg', // ogg, ogv, opus
  'mp3',
  'wav',
  'w64',
  'flac',
  'aac',
  'ac3',
  'eac3',
  'amr',
  'aiff',
  'caf',
  'wv',
  'ape',
  'm4v',
  'h264',
  'hevc',
  'ivf',
  'mxf',
  'dv',
];

/** The ffmpeg/ffprobe input options that restrict them to one local file of a known media format. */
export const toInputRestrictionArgs = (demuxers: readonly string[] = DEFAULT_MEDIA_DEMUXERS): string[] => [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  demuxers.join(','),
];
