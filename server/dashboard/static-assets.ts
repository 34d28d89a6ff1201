import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dashboard's files (HTML, CSS, JavaScript modules), served under /dashboard/. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Scripts and styles come only from this server; nothing inline, no frames, no other origins. Images may also come
 * from the map's tile server when one is configured (its origin only).
 */
export function securityHeaders(tileUrl?: string): Record<string, string> {
  const tiles = tileUrl ? ` ${tileOrigin(tileUrl)}` : '';
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:${tiles}; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

export const SECURITY_HEADERS = securityHeaders();

/** The origin of a tile URL template (https, as the config demands); `{s}` subdomains become a wildcard. */
export function tileOrigin(tileUrl: string): string {
  const host = new URL(tileUrl.replace(/\{[a-z]\}/g, '0')).host;
  return tileUrl.startsWith('https://{s}.') ? `https://*.${host.split('.').slice(1).join('.')}` : `https://${host}`;
}

const require = createRequire(import.meta.url);
const dist = (pkg: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist');

/**
 * The map and chart libraries, from the installed packages (no CDN), served under /dashboard/vendor/.
 */
export function vendorFiles(): Record<string, string> {
  return {
    'vendor/leaflet.js': path.join(dist('leaflet'), 'leaflet.js'),
    'vendor/leaflet.css': path.join(dist('leaflet'), 'leaflet.css'),
    'vendor/leaflet.markercluster.js': path.join(dist('leaflet.markercluster'), 'leaflet.markercluster.js'),
    'vendor/MarkerCluster.css': path.join(dist('leaflet.markercluster'), 'MarkerCluster.css'),
    'vendor/MarkerCluster.Default.css': path.join(dist('leaflet.markercluster'), 'MarkerCluster.Default.css'),
    'vendor/uPlot.iife.min.js': path.join(dist('uplot'), 'uPlot.iife.min.js'),
    'vendor/uPlot.min.css': path.join(dist('uplot'), 'uPlot.min.css'),
  };
}

/** The vendor files as assets (read once at start). */
export function loadVendorAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [rel, file] of Object.entries(vendorFiles())) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const body = readFileSync(file);
    assets.set(rel, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file under public/, read once at start: only these paths are ever served (no traversal possible). */
export function loadAssets(dir: string, prefix = ''): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) {
      for (const [k, v] of loadAssets(path.join(dir, entry.name), `${rel}/`)) assets.set(k, v);
      continue;
    }
    const type = TYPES[path.extname(entry.name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, entry.name));
    assets.set(rel, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}
