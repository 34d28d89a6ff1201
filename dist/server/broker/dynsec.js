import { randomBytes, randomUUID } from 'node:crypto';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, TOPIC_ROOT, lockerTopic } from '../../shared/topics.js';
/**
 * Mosquitto's dynamic-security plugin, driven over its control topic: each locker is a dynsec client (username =
 * client id = locker id) with a role holding exactly its own topics, as the embedded broker's ACLs allow.
 */
const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
/** The role the server's own broker account gets: every locker's topics, published and subscribed. */
const SERVER_ROLE = 'lockstep-server';
const TIMEOUT_MS = 10_000;
class DynsecError extends Error {
    command;
    reason;
    constructor(command, reason) {
        super(`dynamic security ${command} failed: ${reason}`);
        this.command = command;
        this.reason = reason;
    }
}
/** The ACLs of one locker: publish its five device topics, subscribe to its three server topics, by exact name. */
export function lockerAcls(lockerId) {
    return [
        ...DEVICE_PUBLISHES.map((k) => ({ acltype: 'publishClientSend', topic: lockerTopic(lockerId, k), allow: true })),
        ...DEVICE_SUBSCRIBES.map((k) => ({ acltype: 'subscribeLiteral', topic: lockerTopic(lockerId, k), allow: true })),
        ...DEVICE_SUBSCRIBES.map((k) => ({ acltype: 'publishClientReceive', topic: lockerTopic(lockerId, k), allow: true })),
    ];
}
function serverAcls() {
    const all = `${TOPIC_ROOT}/#`;
    return [
        { acltype: 'publishClientSend', topic: all, allow: true },
        { acltype: 'publishClientReceive', topic: all, allow: true },
        { acltype: 'subscribePattern', topic: all, allow: true },
        { acltype: 'unsubscribePattern', topic: all, allow: true },
    ];
}
const roleOf = (lockerId) => `locker-${lockerId}`;
export class Dynsec {
    client;
    #pending = new Map();
    constructor(client) {
        this.client = client;
        client.on('message', (topic, payload) => {
            if (topic !== RESPONSE)
                return;
            let body;
            try {
                body = JSON.parse(payload.toString('utf8'));
            }
            catch {
                return;
            }
            for (const r of body.responses ?? []) {
                const waiting = r.correlationData ? this.#pending.get(r.correlationData) : undefined;
                if (!waiting)
                    continue;
                clearTimeout(waiting.timer);
                this.#pending.delete(r.correlationData);
                waiting.resolve(r);
            }
        });
    }
    /** Subscribes to the plugin's answers, now and after every reconnect. */
    async listen() {
        this.client.on('connect', () => void this.client.subscribeAsync(RESPONSE, { qos: 1 }).catch(() => undefined));
        await this.client.subscribeAsync(RESPONSE, { qos: 1 });
    }
    /** Runs one command; resolves with the plugin's error text ('' when it succeeded). */
    async run(cmd) {
        return (await this.ask(cmd)).error ?? '';
    }
    /** Runs one command; resolves with the plugin's whole answer. */
    async ask(cmd) {
        const correlationData = randomUUID();
        const answer = new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.#pending.delete(correlationData);
                reject(new DynsecError(cmd.command, 'no answer from the broker'));
            }, TIMEOUT_MS);
            this.#pending.set(correlationData, { resolve, timer });
        });
        await this.client.publishAsync(CONTROL, JSON.stringify({ commands: [{ ...cmd, correlationData }] }), { qos: 1 });
        return answer;
    }
    async #must(cmd, tolerated = null) {
        const error = await this.run(cmd);
        if (error && !(tolerated && tolerated.test(error)))
            throw new DynsecError(cmd.command, error);
    }
    /**
     * Gives the server's own account the role that covers every locker's topics (idempotent). Mosquitto closes
     * the connection of a client whose roles change, so the first time this waits for the reconnect.
     */
    async ensureServerRole(username) {
        await this.#must({ command: 'createRole', rolename: SERVER_ROLE, acls: serverAcls() }, /exists/i);
        const self = await this.ask({ command: 'getClient', username });
        if (self.error)
            throw new DynsecError('getClient', self.error);
        if (self.data?.client?.roles?.some((r) => r.rolename === SERVER_ROLE))
            return;
        const reconnected = new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new DynsecError('addClientRole', 'no reconnect after the role change')), TIMEOUT_MS);
            this.client.once('close', () => this.client.once('connect', () => (clearTimeout(timer), resolve())));
        });
        await this.client.publishAsync(CONTROL, JSON.stringify({ commands: [{ command: 'addClientRole', username, rolename: SERVER_ROLE, priority: 10 }] }), { qos: 1 });
        await reconnected;
    }
    /**
     * (Re)creates the locker's client with a fresh random 256-bit password and its own role; an older client of the
     * same locker is deleted first (its connection is closed). The password is returned once and never stored.
     */
    async provisionLocker(lockerId) {
        const password = randomBytes(32).toString('base64url');
        await this.#must({ command: 'createRole', rolename: roleOf(lockerId), acls: lockerAcls(lockerId) }, /exists/i);
        await this.#must({ command: 'deleteClient', username: lockerId }, /not found/i);
        await this.#must({ command: 'createClient', username: lockerId, password, clientid: lockerId, roles: [{ rolename: roleOf(lockerId), priority: 0 }] });
        return { username: lockerId, password };
    }
    /** The locker loses access: its client is deleted, which also closes its connection. */
    async revokeLocker(lockerId) {
        await this.#must({ command: 'deleteClient', username: lockerId }, /not found/i);
    }
    close() {
        for (const { timer } of this.#pending.values())
            clearTimeout(timer);
        this.#pending.clear();
    }
}
//# sourceMappingURL=dynsec.js.map