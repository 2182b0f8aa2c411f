import type { WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema.js';
import { badRequest } from '../errors.js';
import { FILE_EVENT_TYPES } from '../events/library-events.js';
import { builder } from './builder.js';

const Attempt = builder.objectRef<{ at: string; statusCode: number | null; error: string | null; durationMs: number }>('WebhookAttempt').implement({
  fields: (t) => ({
    at: t.exposeString('at'),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs'),
  }),
});

const Delivery = builder.objectRef<WebhookDeliveryRow>('WebhookDelivery').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeString('eventId'),
    eventType: t.exposeString('eventType'),
    url: t.exposeString('url'),
    status: t.exposeString('status', { description: 'pending, delivered or failed (gave up after the retry window).' }),
    payload: t.exposeString('body', { description: 'The JSON body as sent.' }),
    attempts: t.field({ type: [Attempt], resolve: (d) => d.attempts }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
  }),
});

const Endpoint = builder.objectRef<WebhookEndpointRow>('WebhookEndpoint').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    events: t.stringList({ nullable: true, resolve: (e) => e.events, description: 'null: every event.' }),
  }),
});

builder.queryField('webhookDeliveries', (t) =>
  t.field({
    type: [Delivery],
    description: 'Recent webhook deliveries, newest first, with every attempt.',
    args: { limit: t.arg.int({ defaultValue: 100 }) },
    resolve: (_r, args, ctx) => ctx.services.outbox.list(Math.max(1, Math.min(1000, args.limit ?? 100))),
  }),
);

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: [Endpoint],
    description: 'Account webhook endpoints added through the API (those from STOWAGE_WEBHOOK_URLS are not listed).',
    resolve: (_r, _a, ctx) => ctx.services.outbox.storedEndpoints(),
  }),
);

builder.mutationField('addWebhookEndpoint', (t) =>
  t.field({
    type: Endpoint,
    args: { url: t.arg.string({ required: true }), events: t.arg.stringList({ description: `Event types; all when omitted: ${FILE_EVENT_TYPES.join(', ')}.` }) },
    resolve: (_r, args, ctx) => {
      if (!/^https?:\/\/\S+$/i.test(args.url)) throw badRequest('url', 'The webhook URL must be an absolute http(s) URL.');
      const unknown = args.events?.find((e) => !(FILE_EVENT_TYPES as readonly string[]).includes(e));
      if (unknown) throw badRequest('events', `Unknown event type "${unknown}"; use ${FILE_EVENT_TYPES.join(', ')}.`);
      return ctx.services.outbox.addEndpoint(args.url, args.events ?? null);
    },
  }),
);

builder.mutationField('removeWebhookEndpoint', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.outbox.removeEndpoint(String(args.id)),
  }),
);
