import { handleStiggWebhook } from '../../src';

const SECRET = 'whsec-attack-0123456789';
const headers = { 'stigg-webhooks-secret': SECRET, 'content-type': 'application/json' };

function updated(at: string, eventId: string): string {
  return JSON.stringify({
    messageId: `msg-${eventId}`,
    timestamp: at,
    type: 'entitlements.updated',
    customer: { id: 'customer-order' },
    resource: null,
    entitlements: [],
    entitlementsUpdatedAt: at,
    eventId,
  });
}

test('an event dated in the future (a clock glitch, a replayed fixture) does not make every later real event "stale": they still invalidate', async () => {
  const invalidated: string[] = [];
  const handle = handleStiggWebhook({ entitlements: { invalidate: async (id: string) => void invalidated.push(id) }, secret: SECRET });
  const future = await handle({ headers, body: updated('2099-01-01T00:00:00.000Z', 'future') });
  expect(future.body).toMatchObject({ action: 'invalidated' });
  // A real plan change now: the cached decision must go.
  const now = await handle({ headers, body: updated(new Date().toISOString(), 'now') });
  expect(now.body).toMatchObject({ action: 'invalidated' });
  expect(invalidated).toEqual(['customer-order', 'customer-order']);
  // Order still holds for ordinary events: a repeat of the last one changes nothing.
  const repeated = await handle({ headers, body: updated(new Date(Date.now() - 60_000).toISOString(), 'older') });
  expect(repeated.body).toMatchObject({ action: 'ignored' });
});
