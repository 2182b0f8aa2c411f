import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'x-ik-signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Both of ImageKit's signature schemes, so every SDK verifier accepts the delivery:
 * legacy `x-ik-signature: t=<ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, and Standard Webhooks
 * (`webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<seconds>.<body>")>`, key = the secret's UTF-8 bytes,
 * as ImageKit's SDKs hand it to the standardwebhooks library).
 */
export function signWebhook(secret: string, eventId: string, body: string, nowMs: number): SignedHeaders {
  const key = Buffer.from(secret, 'utf8');
  const legacy = createHmac('sha256', key).update(`${nowMs}.${body}`).digest('hex');
  const seconds = Math.floor(nowMs / 1000);
  const standard = createHmac('sha256', key).update(`${eventId}.${seconds}.${body}`).digest('base64');
  return {
    'x-ik-signature': `t=${nowMs},v1=${legacy}`,
    'webhook-id': eventId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': `v1,${standard}`,
  };
}
