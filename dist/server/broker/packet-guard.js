/**
 * Reads the MQTT fixed header of every packet a client sends (type byte, then the "remaining length" in 1–4
 * bytes of 7 bits each) and says whether the connection may go on, before the broker buffers the packet: a
 * length over the limit is refused as soon as it is known, not once the body has arrived. Pure: no I/O, no time.
 */
const CONNECT = 1;
export class PacketGuard {
    limits;
    #state = 'type';
    #type = 0;
    #length = 0;
    #multiplier = 1;
    #lengthBytes = 0;
    /** Bytes of the current packet's body not yet seen. */
    #remaining = 0;
    #packets = 0;
    #bytesBeforeSignIn = 0;
    #signedIn = false;
    #verdict = 'OK';
    constructor(limits) {
        this.limits = limits;
    }
    /** The client is signed in: from now on only the per-packet limit applies. */
    signedIn() {
        this.#signedIn = true;
    }
    /** Takes the next bytes from the client; once a verdict is not OK it stays so. */
    feed(chunk) {
        if (this.#verdict !== 'OK')
            return this.#verdict;
        if (!this.#signedIn) {
            this.#bytesBeforeSignIn += chunk.length;
            // The CONNECT itself plus its 5 header bytes; anything more before the CONNACK is a client not waiting.
            if (this.#bytesBeforeSignIn > this.limits.connectBytes + 5)
                return (this.#verdict = 'TOO_MUCH_BEFORE_SIGN_IN');
        }
        let i = 0;
        while (i < chunk.length) {
            if (this.#state === 'body') {
                const skip = Math.min(this.#remaining, chunk.length - i);
                this.#remaining -= skip;
                i += skip;
                if (this.#remaining === 0)
                    this.#state = 'type';
                continue;
            }
            const byte = chunk[i++];
            if (this.#state === 'type') {
                this.#type = byte >> 4;
                if (this.#packets === 0 && this.#type !== CONNECT)
                    return (this.#verdict = 'FIRST_NOT_CONNECT');
                this.#packets++;
                this.#state = 'length';
                this.#length = 0;
                this.#multiplier = 1;
                this.#lengthBytes = 0;
                continue;
            }
            this.#length += (byte & 0x7f) * this.#multiplier;
            this.#multiplier *= 128;
            this.#lengthBytes++;
            // Refused as soon as the length known so far is too large, even before its last byte.
            const limit = this.#type === CONNECT ? this.limits.connectBytes : this.limits.packetBytes;
            if (this.#length > limit)
                return (this.#verdict = this.#type === CONNECT ? 'CONNECT_TOO_LARGE' : 'PACKET_TOO_LARGE');
            if (byte & 0x80) {
                if (this.#lengthBytes === 4)
                    return (this.#verdict = 'BAD_LENGTH');
                continue;
            }
            this.#remaining = this.#length;
            this.#state = this.#remaining === 0 ? 'type' : 'body';
        }
        return 'OK';
    }
}
//# sourceMappingURL=packet-guard.js.map