import { builder } from './builder.js';
import { ExtensionInput, extensionSpecsOf } from './extensions.js';
import { FileRef } from './file.js';
import { UploadTransformationInput } from './upload-transformation.js';

const ResponseField = builder.enumType('ResponseField', {
  description:
    'ImageKit\'s `responseFields` values. GraphQL already returns exactly the fields you select, so these are accepted for parity with ImageKit clients and change nothing in the result.',
  values: ['TAGS', 'CUSTOM_COORDINATES', 'IS_PRIVATE_FILE', 'IS_PUBLISHED', 'CUSTOM_METADATA', 'EMBEDDED_METADATA', 'METADATA'] as const,
});


builder.mutationField('uploadFile', (t) =>
  t.field({
    type: FileRef,
    description:
      'Uploads one file, as ImageKit\'s `POST /api/v1/files/upload`. The bytes stream into storage; the file is recorded only once they are all stored.',
    args: {
      file: t.arg({ type: 'Upload', required: true, description: 'A multipart file part, or a string: base64, a `data:` URI, or an http(s) URL to download.' }),
      fileName: t.arg.string({ required: true, description: 'Letters, digits, "." and "-" are kept; any other character becomes "_". No extension is added.' }),
      useUniqueFileName: t.arg.boolean({ defaultValue: true, description: 'Append "_" and 9 random characters to the base name. When false, an existing file at the path gets a new version.' }),
      tags: t.arg.stringList({ description: 'At most 500 characters in total; no "%", no empty tag. On an overwrite, omitting tags removes the old ones unless overwriteTags is false.' }),
      folder: t.arg.string({ defaultValue: '/', description: 'Created (with parents) if missing. Letters, digits, "_", "-" and "/"; at most 50 levels.' }),
      isPrivateFile: t.arg.boolean({ defaultValue: false, description: 'A private file is not served on its public URL.' }),
      isPublished: t.arg.boolean({ defaultValue: true, description: 'An unpublished (draft) file is not served at all.' }),
      customCoordinates: t.arg.string({ description: '"x,y,width,height" inside the image; images only. Omitting it on an overwrite removes the old value.' }),
      responseFields: t.arg({ type: [ResponseField], description: 'Accepted for parity with ImageKit; select fields in the query instead.' }),
      overwriteFile: t.arg.boolean({ defaultValue: true, description: 'When false (with useUniqueFileName false) an existing path is an error and nothing is written.' }),
      overwriteTags: t.arg.boolean({ defaultValue: true, description: 'Only when tags are omitted on an overwrite: true removes the old tags, false keeps them.' }),
      overwriteAITags: t.arg.boolean({ defaultValue: true, description: 'On an overwrite: true drops the old AITags, false keeps them.' }),
      description: t.arg.string({ description: 'Free text, at most 1000 characters.' }),
      customMetadata: t.arg({ type: 'JSONObject', description: 'Values for custom metadata fields, validated against their definitions; defaults fill absent fields.' }),
      extensions: t.arg({ type: [ExtensionInput], description: 'Extensions to run: auto-tagging (tried at once, else pending) and remove-bg (always pending, adds a version).' }),
      webhookUrl: t.arg.string({ description: 'Receives each pending extension\'s final status (ImageKit\'s payload, signed).' }),
      uploadId: t.arg.string({ description: 'Your id for this upload: subscribe to `uploadProgress(uploadId)` to follow its bytes.' }),
      transformation: t.arg({ type: UploadTransformationInput, description: 'Pre- and post-transformations, as ImageKit\'s `{pre, post}`.' }),
      overwriteCustomMetadata: t.arg.boolean({ defaultValue: true, description: 'Only when customMetadata is omitted on an overwrite: true resets it (to the defaults), false keeps the old values.' }),
    },
    resolve: (_root, { extensions, ...args }, ctx) => ctx.services.uploadFile({ ...args, extensions: extensionSpecsOf(extensions), requestId: ctx.requestId }),
  }),
);
