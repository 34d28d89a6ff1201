# Lockstep server image: `docker build -t lockstep .`, then see compose.yaml and docs/deploy.md.
# test/deploy/dockerfile-steps.test.ts runs these steps outside a container (package installs aside).
ARG NODE_VERSION=20

# --- build: dev dependencies, TypeScript → dist/ ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits this platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# prepare builds nothing yet (no sources copied): it runs again below, with them.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and dist/ only, as the unprivileged "node" user ---
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MQTT_PORT=1883 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# The data volume (SQLite database, signing keys, secrets): owned by the user the server runs as, mode 0700.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 8080 1883
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/server/main.js"]
