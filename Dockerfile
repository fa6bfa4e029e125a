# One image for the Passant programs: the aggregator (default command, serves the dashboard on 8080) and the
# sensor agent (`node sensor-agent/bin/passant-sensor.js run`). Used by docker-compose.yml.
# Every program runs as built JavaScript (`npm run build`): the aggregator's bundle, the sensor's bundle and the
# dashboard's files; PASSANT_REQUIRE_BUILD=1 makes a missing or stale bundle (either program's) an error, not a tsx run.

FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary; the compiler is the fallback when none fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first, so that `npm ci` is cached until a dependency changes.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY sensor-agent/package.json sensor-agent/
COPY aggregator/package.json aggregator/
COPY dashboard/package.json dashboard/
COPY test/helpers/package.json test/helpers/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production PASSANT_REQUIRE_BUILD=1
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# /data: the aggregator's SQLite store (when used) or the sensor's outbox; a named volume takes this owner.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
CMD ["node", "aggregator/bin/passant-aggregator.js", "run"]
