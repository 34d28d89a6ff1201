import { PacketGuard } from './packet-guard.js';
/**
 * Watches the bytes a client sends on the socket the broker reads: every chunk passes the packet guard as the
 * broker reads it (a socket emits 'data' for each chunk it hands out, also to a reader that uses 'readable'), and
 * the socket is destroyed the moment a packet header breaks a limit, so the broker holds at most the one chunk
 * that carried that header and never the oversized packet. The broker reads and writes the socket itself: no
 * stream in between (a wrapping stream cost about a quarter of the broker's CPU per event; docs/performance.md).
 */
export function guardSocket(socket, options) {
    const guard = new PacketGuard(options.limits);
    let cancelTimeout = options.clock.setTimeout(() => refuse('SIGN_IN_TIMEOUT'), options.signInTimeoutMs);
    const stopTimer = () => {
        cancelTimeout?.();
        cancelTimeout = undefined;
    };
    const refuse = (reason) => {
        stopTimer();
        if (socket.destroyed)
            return;
        options.onRefused(reason);
        socket.destroy();
    };
    socket.on('data', (chunk) => {
        const verdict = guard.feed(chunk);
        if (verdict !== 'OK')
            refuse(verdict);
    });
    socket.once('close', stopTimer);
    return {
        signedIn() {
            guard.signedIn();
            stopTimer();
        },
    };
}
//# sourceMappingURL=guarded-connection.js.map