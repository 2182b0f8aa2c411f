import { builder } from './builder.js';

const PostTransformationType = builder.enumType('PostTransformationType', {
  description: 'ImageKit\'s post-transformation `type`: `transformation`, `gif-to-video`, `thumbnail`, `abs`.',
  values: {
    TRANSFORMATION: { value: 'transformation', description: 'Any transformation string (`value` required); images and videos.' },
    GIF_TO_VIDEO: { value: 'gif-to-video', description: 'A GIF as MP4 (`<url>/ik-gif-video.mp4`); GIF only.' },
    THUMBNAIL: { value: 'thumbnail', description: 'A frame of a video (`<url>/ik-thumbnail.jpg`); video only.' },
    ABS: { value: 'abs', description: 'Adaptive bitrate streaming (`value` like `sr-240_360_720`, `protocol` required); video only.' },
  } as const,
});

const StreamProtocol = builder.enumType('StreamProtocol', {
  values: { HLS: { value: 'hls', description: '`<url>/ik-master.m3u8`' }, DASH: { value: 'dash', description: '`<url>/ik-master.mpd`' } } as const,
});

const PostTransformationInput = builder.inputType('PostTransformationInput', {
  fields: (t) => ({
    type: t.field({ type: PostTransformationType, required: true }),
    value: t.string({ description: 'A transformation string, e.g. `w-300,h-300` or `sr-240_360_480`.' }),
    protocol: t.field({ type: StreamProtocol, description: 'For `ABS`: HLS or DASH.' }),
  }),
});

export const UploadTransformationInput = builder.inputType('UploadTransformationInput', {
  description:
    'ImageKit\'s `transformation` upload parameter. `pre` is applied before storing: at once for images (a failure stores nothing), as a job for videos (the result becomes the file\'s new current version; `upload.pre-transform.*` webhooks report it). Each `post` item runs as a job after storing and is reported by an `upload.post-transform.*` webhook; its output is served at its URL.',
  fields: (t) => ({
    pre: t.string({ description: 'One transformation string, e.g. `w-1200,h-800,q-80`.' }),
    post: t.field({ type: [PostTransformationInput] }),
  }),
});
