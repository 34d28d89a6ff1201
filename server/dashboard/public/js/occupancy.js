// Occupancy as people read it: "3 of 12 in use" with a bar, and per size in words for screen readers and tooltips.
import { el } from './dom.js';

export function occupancyLabel(size, c) {
  return `Size ${size}: ${c.free} free, ${c.reserved} reserved, ${c.occupied} occupied, ${c.out_of_service} out of service`;
}

/** In use (reserved or occupied) and in all, from the counts per size. */
export function inUseOf(bySize) {
  let inUse = 0;
  let total = 0;
  for (const c of Object.values(bySize)) {
    inUse += c.reserved + c.occupied;
    total += c.free + c.reserved + c.occupied + c.out_of_service;
  }
  return { inUse, total };
}

/** The cell's content: the sentence, a meter, and the sizes in words (visually hidden). */
export function occupancyNodes(bySize) {
  const { inUse, total } = inUseOf(bySize);
  const details = Object.entries(bySize).map(([size, c]) => occupancyLabel(size, c));
  return [
    el('span', { class: 'occ-text', title: details.join('; ') }, `${inUse} of ${total} in use`),
    el('meter', { class: 'occ-bar', min: 0, max: Math.max(total, 1), value: inUse, low: Math.max(total, 1) * 0.7, high: Math.max(total, 1) * 0.9, optimum: 0, 'aria-hidden': 'true' }),
    ...details.map((d) => el('span', { class: 'sr-only' }, d)),
  ];
}
