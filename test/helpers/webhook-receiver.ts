import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, any>;
  status: number;
}

/** A loopback webhook receiver; `respond` decides each answer's status (default 200). */
export async function startWebhookReceiver(respond: (hook: Omit<ReceivedWebhook, 'status'>, count: number) => number = () => 200) {
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const hook = { headers: req.headers, body, json: JSON.parse(body) };
      const status = respond(hook, received.length);
      received.push({ ...hook, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * Verifies both signature schemes from scratch (not with Stowage's code): legacy x-ik-signature and
 * Standard Webhooks, whose key is the secret's UTF-8 bytes as ImageKit's SDKs use it. Tolerance 5 minutes.
 */
export function verifySignatures(secret: string, hook: Pick<ReceivedWebhook, 'headers' | 'body'>): { legacy: boolean; standard: boolean } {
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const legacyHeader = String(hook.headers['x-ik-signature'] ?? '');
  const parts = Object.fromEntries(legacyHeader.split(',').map((p) => p.split('=') as [string, string]));
  const legacyExpected = createHmac('sha256', secret).update(`${parts.t}.${hook.body}`).digest('hex');
  const legacy = !!parts.t && !!parts.v1 && same(parts.v1, legacyExpected) && Math.abs(Date.now() - Number(parts.t)) < 300_000;

  const id = String(hook.headers['webhook-id'] ?? '');
  const ts = String(hook.headers['webhook-timestamp'] ?? '');
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${ts}.${hook.body}`).digest('base64');
  const signatures = String(hook.headers['webhook-signature'] ?? '').split(' ').map((s) => s.replace(/^v1,/, ''));
  const standard = !!id && Math.abs(Date.now() / 1000 - Number(ts)) < 300 && signatures.some((s) => same(s, expected));
  return { legacy, standard };
}
