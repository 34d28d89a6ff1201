import type { AuditPage } from '../shared/api/audit.js';
import type { LockerListQuery, LockerPage } from '../shared/api/fleet-listing.js';
import type { LockerView } from '../shared/api/lockers.js';
import type {
  BookingBody,
  BookingView,
  DepositSessionView,
  NotificationList,
  ParcelList,
  ParcelQuery,
  ParcelView,
  ParcelWithHistory,
  TimelineView,
} from '../shared/api/parcels.js';
import type { DeliveryList, DeliveryQuery, DeliveryView, WebhookBody, WebhookDeleteView, WebhookPutView, WebhookView } from '../shared/api/webhooks.js';
import { ApiClient, type ApiClientOptions, type PostOptions } from './http-client.js';

export { ApiClient, ApiError, ApiUnreachableError, type ApiClientOptions, type PostOptions } from './http-client.js';

const enc = encodeURIComponent;
const query = (q: Record<string, string | number | undefined>): string => {
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
};

/**
 * The Lockstep API for a carrier's system, typed with the shared request and answer types (shared/api/). Every
 * POST carries an Idempotency-Key and is retried with the same key when the answer is lost (a server that went
 * away, a gateway error): a booking is made once, whatever the network did. Pass `{ idempotencyKey }` to a call
 * to choose the key yourself (your own request id), so that your own retry later reuses it too. Errors are
 * `ApiError` with the catalogue `code` (docs/http-api.md).
 */
export class LockstepClient {
  readonly http: ApiClient;

  /** `baseUrl`: one server, or several of one deployment (a list, or comma-separated) to fail over between. */
  constructor(baseUrl: string | readonly string[], token: string, options: ApiClientOptions = {}) {
    this.http = new ApiClient(baseUrl, token, options);
  }

  // Parcels
  /** Books a compartment: the parcel and its drop-off code (shown only in this answer). */
  bookParcel(body: BookingBody, options?: PostOptions): Promise<BookingView> {
    return this.http.post<BookingView>('/v1/parcels', body, options);
  }
  /** A parcel you booked, with its history. */
  getParcel(parcelId: string): Promise<ParcelWithHistory> {
    return this.http.get<ParcelWithHistory>(`/v1/parcels/${enc(parcelId)}`);
  }
  /** Your parcels with this reference, newest first (one page: `{ items, nextCursor }`). */
  findParcels(reference: string): Promise<ParcelList> {
    return this.http.get<ParcelList>(`/v1/parcels${query({ reference })}`);
  }
  /** One page of your parcels matching the filters; pass `nextCursor` back as `cursor` for the next page. */
  listParcels(q: ParcelQuery = {}): Promise<ParcelList> {
    return this.http.get<ParcelList>(`/v1/parcels${query(q)}`);
  }
  getTimeline(parcelId: string): Promise<TimelineView> {
    return this.http.get<TimelineView>(`/v1/parcels/${enc(parcelId)}/timeline`);
  }
  getNotifications(parcelId: string): Promise<NotificationList> {
    return this.http.get<NotificationList>(`/v1/parcels/${enc(parcelId)}/notifications`);
  }
  /** Cancels a booking not yet deposited. */
  cancelParcel(parcelId: string, options?: PostOptions): Promise<ParcelView> {
    return this.http.post<ParcelView>(`/v1/parcels/${enc(parcelId)}/cancel`, {}, options);
  }
  /** Extends the pickup window of a parcel waiting in its locker. */
  extendPickup(parcelId: string, options?: PostOptions): Promise<ParcelView> {
    return this.http.post<ParcelView>(`/v1/parcels/${enc(parcelId)}/extend`, {}, options);
  }
  /** One code for a courier's parcels at one locker. */
  openDepositSession(lockerId: string, parcelIds: string[], options?: PostOptions): Promise<DepositSessionView> {
    return this.http.post<DepositSessionView>(`/v1/lockers/${enc(lockerId)}/deposit-sessions`, { parcelIds }, options);
  }

  // Lockers
  /** One page of the fleet, sorted and filtered; pass `nextCursor` back as `cursor` for the next page. */
  listLockers(q: LockerListQuery = {}): Promise<LockerPage> {
    return this.http.get<LockerPage>(`/v1/lockers${query(q)}`);
  }
  getLocker(lockerId: string): Promise<LockerView> {
    return this.http.get<LockerView>(`/v1/lockers/${enc(lockerId)}`);
  }

  // Webhooks (your own account's)
  setWebhook(body: WebhookBody): Promise<WebhookPutView> {
    return this.http.request<WebhookPutView>('PUT', '/v1/me/webhook', body);
  }
  getWebhook(): Promise<WebhookView> {
    return this.http.get<WebhookView>('/v1/me/webhook');
  }
  deleteWebhook(): Promise<WebhookDeleteView> {
    return this.http.request<WebhookDeleteView>('DELETE', '/v1/me/webhook');
  }
  listDeliveries(q: DeliveryQuery = {}): Promise<DeliveryList> {
    return this.http.get<DeliveryList>(`/v1/webhooks/deliveries${query(q)}`);
  }
  getDelivery(deliveryId: string): Promise<DeliveryView> {
    return this.http.get<DeliveryView>(`/v1/webhooks/deliveries/${enc(deliveryId)}`);
  }
  retryDelivery(deliveryId: string, options?: PostOptions): Promise<DeliveryView> {
    return this.http.post<DeliveryView>(`/v1/webhooks/deliveries/${enc(deliveryId)}/retry`, {}, options);
  }

  // Admin
  /** One page of the audit log (admin); pass `nextCursor` back as `cursor`. */
  getAudit(q: { limit?: number; cursor?: string; action?: string; actor?: string; lockerId?: string } = {}): Promise<AuditPage> {
    return this.http.get<AuditPage>(`/v1/audit${query(q)}`);
  }
}
