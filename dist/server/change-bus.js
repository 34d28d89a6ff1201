/**
 * In-process notifications of what changed, emitted after the commit: the dashboard's live stream marks the
 * locker for its next push, the metrics count codes. Listeners are synchronous and cheap; one that throws is
 * logged and never disturbs the emitter (device sync must not fail because a dashboard listener did).
 */
export class ChangeBus {
    log;
    listeners = new Set();
    constructor(log) {
        this.log = log;
    }
    on(listener) {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }
    /** Device events of a locker were committed. */
    eventsCommitted(batch) {
        this.emit({ kind: 'events', batch });
    }
    /** Something about a locker changed (an alarm acknowledged, a command created) that its views show. */
    lockerChanged(lockerId) {
        this.emit({ kind: 'locker', lockerId });
    }
    emit(change) {
        for (const listener of this.listeners) {
            try {
                listener(change);
            }
            catch (err) {
                this.log?.error({ err }, 'change listener failed');
            }
        }
    }
}
//# sourceMappingURL=change-bus.js.map