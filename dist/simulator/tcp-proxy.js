import { createServer, connect } from 'node:net';
/**
 * A locker connected straight to the broker (no proxy: three fewer open files and no copying, for big fleets
 * where this locker has no planned outage). Its network cannot be cut.
 */
export function directLink() {
    return {
        cuts: 0,
        isCut: false,
        cut() {
            throw new Error('this locker is connected directly (no proxy): its network cannot be cut');
        },
        restore() { },
        close: async () => undefined,
    };
}
/**
 * A TCP proxy between one locker and the broker, so a network cut is a real one: `cut()` destroys the open
 * connections and refuses new ones until `restore()`. The agent sees only what a broken network does.
 */
export class TcpProxy {
    targetHost;
    targetPort;
    #server;
    #sockets = new Set();
    #cut = false;
    /** How many times a connection was cut. */
    cuts = 0;
    constructor(targetHost, targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
    }
    /** Starts listening on a free loopback port; returns the URL for the locker. */
    async listen() {
        const server = createServer((client) => this.#accept(client));
        this.#server = server;
        await new Promise((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
                server.off('error', reject);
                resolve();
            });
        });
        return `mqtt://127.0.0.1:${this.#server.address().port}`;
    }
    get isCut() {
        return this.#cut;
    }
    cut() {
        this.#cut = true;
        this.cuts++;
        for (const s of this.#sockets)
            s.destroy();
        this.#sockets.clear();
    }
    restore() {
        this.#cut = false;
    }
    async close() {
        this.cut();
        await new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    }
    #accept(client) {
        if (this.#cut) {
            client.destroy();
            return;
        }
        const upstream = connect(this.targetPort, this.targetHost);
        this.#sockets.add(client);
        this.#sockets.add(upstream);
        const drop = () => {
            client.destroy();
            upstream.destroy();
            this.#sockets.delete(client);
            this.#sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
    }
}
//# sourceMappingURL=tcp-proxy.js.map