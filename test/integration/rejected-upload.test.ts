import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';

const MiB = 1024 * 1024;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(MiB) });
});
afterAll(async () => {
  await t.close();
});

const UPLOAD = 'mutation($f: Upload!) { uploadFile(file: $f, fileName: "big.bin") { fileId } }';

/**
 * Node's fetch posting multipart uploads of `sizes` MiB, one after another, from a worker thread: a client on
 * its own event loop, as a separate process would be, so the server cannot finish reading before it sends.
 * Resolves with each outcome: the status and error code, or the network error fetch threw.
 */
function uploadFromWorker(url: string, authorization: string, sizes: number[], operations = JSON.stringify({ query: UPLOAD, variables: { f: null } })): Promise<string[]> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      const outcomes = [];
      for (const size of workerData.sizes) {
        const form = new FormData();
        form.set('operations', workerData.operations);
        form.set('map', JSON.stringify({ 0: ['variables.f'] }));
        form.set('0', new Blob([new Uint8Array(size * 1024 * 1024)]), 'big.bin');
        try {
          const res = await fetch(workerData.url, { method: 'POST', headers: { authorization: workerData.authorization }, body: form });
          const body = await res.json();
          outcomes.push(res.status + ' ' + body.errors[0].extensions.code);
        } catch (error) {
          outcomes.push('network error: ' + error.message + ' ' + (error.cause && error.cause.code));
        }
      }
      parentPort.postMessage(outcomes);
    })();`;
  const worker = new Worker(code, { eval: true, workerData: { url: `${url}/graphql`, authorization, sizes, operations } });
  return new Promise((resolve, reject) => {
    worker.once('message', (outcomes: string[]) => {
      void worker.terminate();
      resolve(outcomes);
    });
    worker.once('error', reject);
  });
}

/**
 * A client that sends a multipart body of `totalBytes` as fast as the server takes it and never stops by
 * itself (unlike fetch, which gives up once it has the answer). Reports what it read and how much of the
 * body the server read from this connection.
 */
function floodUpload(headers: string, totalBytes: number): Promise<{ response: string; serverRead: number }> {
  const boundary = 'flood';
  const head = [
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: UPLOAD, variables: { f: null } })}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f"]}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ].join('');
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(t.url).port), '127.0.0.1');
    let serverSocket: net.Socket | undefined;
    const onConnection = (s: net.Socket) => {
      if (s.remotePort !== socket.localPort) return;
      serverSocket = s;
      t.app.server.off('connection', onConnection);
    };
    t.app.server.on('connection', onConnection);
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.once('close', () => resolve({ response, serverRead: serverSocket?.bytesRead ?? 0 }));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: ${new URL(t.url).host}\r\n${headers}Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${totalBytes}\r\n\r\n${head}`);
    const chunk = Buffer.alloc(MiB);
    let sent = 0;
    const pump = () => {
      while (!socket.destroyed && socket.writable && sent < totalBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('an upload refused while its body is still arriving', () => {
  it('answers a wrong key on a 5 to 20 MB multipart upload with the 403 error every time, never a reset', async () => {
    const outcomes = await uploadFromWorker(t.url, basicAuth('wrong_key'), [5, 20, 5, 20, 12, 20]);
    expect(outcomes).toEqual(Array(6).fill('403 FORBIDDEN'));
  });

  it('answers a malformed multipart request with its error every time, never a reset', async () => {
    const outcomes = await uploadFromWorker(t.url, basicAuth(), [5, 20], '{not json');
    expect(outcomes).toEqual(Array(2).fill('400 BAD_REQUEST'));
  });

  it('answers a file over the size limit with FILE_TOO_LARGE every time, never a reset', async () => {
    const outcomes = await uploadFromWorker(t.url, basicAuth(), [5, 20, 20]);
    expect(outcomes).toEqual(Array(3).fill('200 FILE_TOO_LARGE'));
  });

  it('does not read on a huge body the client keeps sending after the answer, and still delivers the answer', async () => {
    const flood = (auth: string) => floodUpload(`Authorization: ${auth}\r\n`, 500 * MiB);
    const [wrongKey, tooLarge] = await Promise.all([flood(basicAuth('wrong_key')), flood(basicAuth())]);
    expect(wrongKey.response).toMatch(/^HTTP\/1\.1 403 [^]*"code":"FORBIDDEN"/);
    expect(tooLarge.response).toMatch(/^HTTP\/1\.1 200 [^]*"code":"FILE_TOO_LARGE"/);
    for (const { serverRead } of [wrongKey, tooLarge]) expect(serverRead).toBeLessThan(64 * MiB);
  });
});
