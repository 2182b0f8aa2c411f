import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type App, type AppOverrides, createApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createTestDatabase } from './test-database.js';

export const TEST_KEY = 'private_test_key';
export const basicAuth = (key = TEST_KEY, password = '') => `Basic ${Buffer.from(`${key}:${password}`).toString('base64')}`;

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: { message: string; path?: string[]; extensions: Record<string, unknown> }[] | undefined;
}

export interface TestApp {
  app: App;
  url: string;
  config: Config;
  dataDir: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, init?: { auth?: string | null }): Promise<GqlResult<T>>;
  /** A GraphQL multipart request (the spec curl and Apollo's upload link send) with one file. */
  upload<T = Record<string, any>>(query: string, variables: Record<string, unknown>, file: { path: string; data: Uint8Array | Blob; filename: string; type?: string }, init?: { auth?: string | null }): Promise<GqlResult<T>>;
  close(): Promise<void>;
  /** Rebuilds the app on the same data dir (a restart). */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function toResult<T>(response: Response): Promise<GqlResult<T>> {
  const text = await response.text();
  let json: { data?: T | null; errors?: GqlResult<T>['errors'] } = {};
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`Non-JSON response ${response.status}: ${text.slice(0, 300)}`);
  }
  return { status: response.status, headers: response.headers, data: json.data, errors: json.errors };
}

/**
 * A real server on a free loopback port, with a real blob store in a temp dir and a real database: a SQLite file
 * there, or a schema of its own in the run's PostgreSQL database when the suite runs on PostgreSQL.
 */
export async function startTestApp(env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<TestApp> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-test-'));
  const port = await freePort();
  const database = overrides.db || env.STOWAGE_DATABASE_URL ? undefined : createTestDatabase();
  const config = loadConfig({
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_PRIVATE_KEY: TEST_KEY,
    STOWAGE_LOG_LEVEL: 'silent',
    STOWAGE_URL_ENDPOINT: `http://127.0.0.1:${port}`,
    ...database?.env,
    ...env,
  });
  let app = await createApp(config, overrides);
  const url = await app.listen(port, '127.0.0.1');
  const authHeader = (init?: { auth?: string | null }): Record<string, string> => {
    const auth = init?.auth === undefined ? basicAuth() : init.auth;
    return auth === null ? {} : { authorization: auth };
  };
  return {
    get app() {
      return app;
    },
    url,
    config,
    dataDir,
    async gql(query, variables, init) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authHeader(init) },
        body: JSON.stringify({ query, variables }),
      });
      return toResult(response);
    },
    async upload(query, variables, file, init) {
      const form = new FormData();
      form.set('operations', JSON.stringify({ query, variables }));
      form.set('map', JSON.stringify({ 0: [file.path] }));
      const blob = file.data instanceof Blob ? file.data : new Blob([file.data as Uint8Array<ArrayBuffer>], { type: file.type ?? 'application/octet-stream' });
      form.set('0', blob, file.filename);
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: authHeader(init), body: form });
      return toResult(response);
    },
    async close() {
      await app.close();
      await database?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await app.close();
      app = await createApp(config, overrides);
      await app.listen(port, '127.0.0.1');
    },
  };
}

export const UPLOAD_FIELDS = 'fileId name filePath size url thumbnailUrl fileType mime width height tags AITags { name confidence source } isPrivateFile isPublished customCoordinates description isCurrentVersion versionInfo { id name } createdAt updatedAt';

export const UPLOAD_MUTATION = `mutation Upload($file: Upload!, $fileName: String!, $folder: String, $useUniqueFileName: Boolean, $tags: [String!], $isPrivateFile: Boolean, $isPublished: Boolean, $customCoordinates: String, $overwriteFile: Boolean, $overwriteTags: Boolean, $overwriteAITags: Boolean, $description: String, $responseFields: [ResponseField!]) {
  uploadFile(file: $file, fileName: $fileName, folder: $folder, useUniqueFileName: $useUniqueFileName, tags: $tags, isPrivateFile: $isPrivateFile, isPublished: $isPublished, customCoordinates: $customCoordinates, overwriteFile: $overwriteFile, overwriteTags: $overwriteTags, overwriteAITags: $overwriteAITags, description: $description, responseFields: $responseFields) { ${UPLOAD_FIELDS} }
}`;
