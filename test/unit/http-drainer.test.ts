import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpDrainer } from '../../src/http/shutdown.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

/** A server whose `/hold` requests stay open until released; anything else is answered at once. */
async function startServer() {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) =>
    drainer.serve(req, res, async () => {
      if (req.url === '/hold') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('started\n');
        held.push(res);
        await new Promise((resolve) => res.once('close', resolve));
        return;
      }
      res.writeHead(200, { 'content-length': '2' }).end('ok');
    }),
  );
  const drainer = new HttpDrainer(server);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, drainer, held, port: (server.address() as net.AddressInfo).port };
}

/** A raw kept-alive connection that collects everything it receives. */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => (text += chunk));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, text: () => text, closed };
}

describe('HttpDrainer', () => {
  it('lets a request in flight finish, and answers one sent after the shutdown began with 503 SHUTTING_DOWN', async () => {
    const { drainer, held, port } = await startServer();
    const client = connect(port);
    client.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => held.length).toBe(1);
    expect(drainer.inFlight).toBe(1);

    const drained = drainer.drain(new AbortController().signal);
    client.socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => drainer.inFlight).toBe(2);
    held[0]?.end('finished\n');
    expect(await drained).toEqual({ cut: 0 });
    await client.closed;

    const [first, refusal] = client.text().split(/(?=HTTP\/1\.1 503)/);
    expect(first).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(first).toContain('started\n');
    expect(first).toContain('finished\n');
    expect(refusal).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refusal?.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(refusal?.slice(refusal.indexOf('\r\n\r\n') + 4) ?? '').errors[0]).toMatchObject({
      message: expect.stringContaining('The server is shutting down'),
      extensions: { code: 'SHUTTING_DOWN', status: 503 },
    });
  });

  it('cuts what is still open when the grace period ends, and stops listening at once', async () => {
    const { drainer, held, port } = await startServer();
    const client = connect(port);
    client.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => held.length).toBe(1);
    const grace = new AbortController();
    const drained = drainer.drain(grace.signal);
    const refused = await new Promise<string | undefined>((resolve) => {
      net.connect(port, '127.0.0.1').once('connect', () => resolve(undefined)).once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    expect(refused).toBe('ECONNREFUSED');
    grace.abort();
    expect(await drained).toEqual({ cut: 1 });
    await client.closed;
    // The cut response never ended: no terminating chunk.
    expect(client.text()).not.toContain('0\r\n\r\n');
    await drainer.settled(new AbortController().signal);
  });
});
