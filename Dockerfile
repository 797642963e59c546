# syntax=docker/dockerfile:1
# One image for all five services (and the migrations job). The service is chosen at run time:
#   docker build -t conduit .
#   docker run -e SERVICE=telemetry -e NATS_URL=… -e DATABASE_URL=… conduit
#   docker run conduit node dist/scripts/migrate.js        # migrations (production preset)
# SERVICE may also be baked in at build time: docker build --build-arg SERVICE=gateway .
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# --- build: every dependency, compile, link @conduit/* into dist/node_modules ------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY bench ./bench
COPY scripts ./scripts
# `npm run build` is `tsc -p tsconfig.build.json && node scripts/link-dist.mjs`: link-dist must
# run after tsc (dist/node_modules/@conduit/<lib> -> dist/libs/<lib>/src, relative symlinks
# that COPY --from keeps).
RUN npm run build

# --- production dependencies only ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=""
ENV NODE_ENV=production \
    CONDUIT_PRESET=production \
    SERVICE=${SERVICE} \
    HTTP_HOST=0.0.0.0 \
    NODE_OPTIONS=""
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# The code is owned by root and read-only to the service, which runs as the image's `node` user.
USER node
# /health is liveness only (the process serves HTTP); readiness (/readyz) is for orchestrators.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const d={gateway:3000,'device-control':3001,telemetry:3002,analytics:3003,'llm-experiments':3004};const p=process.env.HTTP_PORT||d[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec: node is PID 1's only child under `init: true` / tini and receives SIGTERM itself, so the
# drain (stop consumers, finish the batch in hand, drain NATS, exit 0) runs on `docker stop`.
# Per-service heap bounds go in NODE_OPTIONS (telemetry: --max-old-space-size=160 --max-semi-space-size=8).
CMD ["sh", "-c", "case \"$SERVICE\" in gateway|device-control|telemetry|analytics|llm-experiments) ;; *) echo \"SERVICE must be one of gateway, device-control, telemetry, analytics, llm-experiments (got '$SERVICE')\" >&2; exit 64;; esac; exec node --enable-source-maps --import ./dist/apps/$SERVICE/src/instrument.js ./dist/apps/$SERVICE/src/main.js"]
