export function webhookView(row) {
    return { accountId: row.account_id, url: row.url, createdAt: row.created_at, updatedAt: row.updated_at };
}
export function deliveryView(row) {
    return {
        id: row.id,
        accountId: row.account_id,
        eventType: row.event_type,
        parcelId: row.parcel_id,
        state: row.state,
        attempts: row.attempts,
        createdAt: row.created_at,
        nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
        lastAttemptAt: row.last_attempt_at,
        lastStatus: row.last_status,
        lastError: row.last_error,
        deliveredAt: row.delivered_at,
        payload: JSON.parse(row.payload),
        carriesCode: row.grant_jti !== null,
    };
}
//# sourceMappingURL=webhook-views.js.map