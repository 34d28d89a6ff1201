import { isIP } from 'node:net';
import { WindowCounter } from '../http/rate-limit-window.js';
import { guardSocket } from './guarded-connection.js';
export function transportLimits(config) {
    return {
        maxConnectBytes: config.mqttMaxConnectBytes,
        maxPacketBytes: config.mqttMaxPacketBytes,
        signInTimeoutMs: config.mqttSignInTimeoutMs,
        connectsPerAddressPer10s: config.mqttConnectsPerAddressPer10s,
        exemptAddresses: new Set(parseAddressList(config.mqttConnectLimitExempt).map(plainAddress)),
    };
}
/** The addresses of a comma-separated list, 'none' = empty (validated by makeConfig). */
function parseAddressList(list) {
    return list.trim() === 'none' ? [] : list.split(',').map((a) => a.trim()).filter((a) => a !== '');
}
/** An IPv4 client of a dual-stack listener appears as ::ffff:a.b.c.d; it is the same address. */
function plainAddress(address) {
    return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address.toLowerCase();
}
/**
 * Takes each new TCP connection of the broker: refuses it at once when its address opened too many in the last
 * 10 seconds, otherwise guards it (packet and sign-in limits) and hands the socket and its guard to the broker.
 * `clock` is wall time: these limits are about the network, not the simulated business clock.
 */
export function connectionAcceptor(limits, clock, log, handle) {
    const attempts = new WindowCounter(clock, 10_000);
    return (socket) => {
        const address = plainAddress(socket.remoteAddress ?? '');
        if (limits.connectsPerAddressPer10s > 0 && !limits.exemptAddresses.has(address)) {
            const n = attempts.count(address);
            if (n > limits.connectsPerAddressPer10s) {
                // Logged once per window, not per refused connection: a flood must not flood the log.
                if (n === limits.connectsPerAddressPer10s + 1)
                    log.warn({ address }, 'mqtt connections refused: too many from this address');
                socket.destroy();
                return;
            }
        }
        const guard = guardSocket(socket, {
            limits: { connectBytes: limits.maxConnectBytes, packetBytes: limits.maxPacketBytes },
            signInTimeoutMs: limits.signInTimeoutMs,
            clock,
            onRefused: (reason) => log.warn({ address, reason }, 'mqtt connection closed: limit broken'),
        });
        handle(socket, guard);
    };
}
//# sourceMappingURL=transport-limits.js.map