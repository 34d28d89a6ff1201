import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BatchItems } from '../shared/messages.js';
const itemsCheck = TypeCompiler.Compile(BatchItems);
/**
 * The parcels of a `deposit_batch` grant (its `items` claim), or null when the claim is missing or malformed.
 * The claim is covered by the grant's signature; its shape is checked here, where it is read.
 */
export function batchItemsOf(claims) {
    const items = claims?.items;
    if (!itemsCheck.Check(items))
        return null;
    // One parcel once: a list naming a parcel or a compartment twice is not a valid batch.
    if (new Set(items.map((i) => i.p)).size !== items.length || new Set(items.map((i) => i.c)).size !== items.length)
        return null;
    return items;
}
/** Marker in `used_grants` for one parcel of a batch grant: each parcel's door opens once. */
export function batchItemKey(jti, parcelId) {
    return `${jti}#${parcelId}`;
}
//# sourceMappingURL=batch.js.map