// The GraphQL documents the CLI sends (schema/schema.graphql), and the shapes it reads back.

/** What the CLI shows and prints (`--json`) of a stored file. */
export interface RemoteFile {
  fileId: string;
  name: string;
  filePath: string;
  size: number;
  mime: string;
  fileType: string;
  width: number | null;
  height: number | null;
  tags: string[] | null;
  isPrivateFile: boolean;
  url: string;
  versionInfo: { id: string; name: string };
  createdAt: string;
}

const FILE_FIELDS = 'fileId name filePath size mime fileType width height tags isPrivateFile url versionInfo { id name } createdAt';

export const UPLOAD_FILE = `mutation StowageCliUpload($file: Upload!, $fileName: String!, $folder: String, $tags: [String!], $isPrivateFile: Boolean, $useUniqueFileName: Boolean) {
  uploadFile(file: $file, fileName: $fileName, folder: $folder, tags: $tags, isPrivateFile: $isPrivateFile, useUniqueFileName: $useUniqueFileName) { ${FILE_FIELDS} }
}`;
export type UploadFileData = { uploadFile: RemoteFile };

export const LIST_FILES = `query StowageCliList($path: String, $recursive: Boolean, $searchQuery: String, $after: String, $first: Int) {
  files(path: $path, recursive: $recursive, searchQuery: $searchQuery, after: $after, first: $first, type: FILE) {
    nodes { ... on File { ${FILE_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export type ListFilesData = { files: { nodes: RemoteFile[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

export const DELETE_FILE = 'mutation StowageCliDelete($fileId: ID!) { deleteFile(fileId: $fileId) }';
export type DeleteFileData = { deleteFile: string };

export const SIGNED_URL = `query StowageCliSignedUrl($fileId: ID!, $transformation: String, $expireSeconds: Int) {
  signedUrl(fileId: $fileId, transformation: $transformation, expireSeconds: $expireSeconds)
}`;
export type SignedUrlData = { signedUrl: string };
