import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { Client, fetchExchange } from '@urql/core';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const UPLOAD = gql`
  mutation Upload($file: Upload!, $fileName: String!, $useUniqueFileName: Boolean, $overwriteFile: Boolean) {
    uploadFile(file: $file, fileName: $fileName, useUniqueFileName: $useUniqueFileName, overwriteFile: $overwriteFile) {
      fileId
      name
      mime
      width
      height
      url
    }
  }
`;

describe('real GraphQL clients', () => {
  it('Apollo Client with the upload link uploads a File and receives typed errors', async () => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new UploadHttpLink({ uri: `${t.url}/graphql`, headers: { authorization: basicAuth() } }),
    });
    const jpeg = await makeJpeg(120, 80);
    const file = new File([new Uint8Array(jpeg)], 'apollo.jpg', { type: 'image/jpeg' });
    const { data } = await client.mutate<{ uploadFile: Record<string, string> }>({ mutation: UPLOAD, variables: { file, fileName: 'apollo.jpg', useUniqueFileName: false } });
    expect(data?.uploadFile).toMatchObject({ name: 'apollo.jpg', mime: 'image/jpeg', width: 120, height: 80 });
    const served = Buffer.from(await (await fetch(data?.uploadFile.url as string)).arrayBuffer());
    expect(Buffer.compare(served, jpeg)).toBe(0);

    const again = await client
      .mutate({ mutation: UPLOAD, variables: { file, fileName: 'apollo.jpg', useUniqueFileName: false, overwriteFile: false }, errorPolicy: 'all' })
      .catch((e: unknown) => ({ error: e }));
    const error = (again as { error?: { errors?: { extensions?: Record<string, unknown> }[] } }).error;
    expect(error?.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_ALREADY_EXISTS', status: 400 });
  });

  it('urql uploads a Blob through its multipart support', async () => {
    const client = new Client({ url: `${t.url}/graphql`, exchanges: [fetchExchange], fetchOptions: { headers: { authorization: basicAuth() } } });
    const blob = new Blob([new Uint8Array(await makeJpeg(33, 44))], { type: 'image/jpeg' });
    const result = await client.mutation<{ uploadFile: Record<string, string> }>(UPLOAD, { file: blob, fileName: 'urql.jpg' }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data?.uploadFile).toMatchObject({ mime: 'image/jpeg', width: 33, height: 44 });
    expect(result.data?.uploadFile.name).toMatch(/^urql_.{9}\.jpg$/);
  });
});
