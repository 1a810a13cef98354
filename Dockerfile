# syntax=docker/dockerfile:1
# One image for both apps (coordinator and worker), on Node 22 LTS. The app process is started directly
# (`node apps/<app>/dist/main.js`), not through the CLI launcher, with tini as PID 1: SIGTERM reaches the process
# that drains, and tini reaps anything it leaves. Build: docker build -t omnidaemon .
# Run:   docker run -e OMNIDAEMON_API_TOKEN=… -e OMNIDAEMON_KAFKA_BROKERS=… -e OMNIDAEMON_DATABASE_URL=… omnidaemon
#          (the coordinator, the default command; it listens on 0.0.0.0 here, which it allows only with a token)
#        docker run -e OMNIDAEMON_KAFKA_BROKERS=… omnidaemon node apps/worker/dist/main.js --agents /app/examples/pipeline/agents.js
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json turbo.json tsconfig.base.json tsconfig.build.json tsconfig.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/lifecycle/package.json packages/lifecycle/
COPY packages/bus-kafka/package.json packages/bus-kafka/
COPY packages/store-pg/package.json packages/store-pg/
COPY packages/sdk/package.json packages/sdk/
COPY packages/cli/package.json packages/cli/
COPY packages/console/package.json packages/console/
COPY apps/coordinator/package.json apps/coordinator/
COPY apps/worker/package.json apps/worker/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY packages packages
COPY apps apps
RUN npm run build \
  && rm -rf node_modules \
  && npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
  && find packages apps -name '*.tsbuildinfo' -delete

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
  OMNIDAEMON_API_HOST=0.0.0.0 \
  OMNIDAEMON_METRICS_HOST=0.0.0.0
# Production dependencies only, with the workspace links (node_modules/@omnidaemon/* -> packages/*, apps/*).
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/packages/protocol/package.json packages/protocol/
COPY --from=build /src/packages/protocol/dist packages/protocol/dist
COPY --from=build /src/packages/lifecycle/package.json packages/lifecycle/
COPY --from=build /src/packages/lifecycle/dist packages/lifecycle/dist
COPY --from=build /src/packages/bus-kafka/package.json packages/bus-kafka/
COPY --from=build /src/packages/bus-kafka/dist packages/bus-kafka/dist
COPY --from=build /src/packages/store-pg/package.json packages/store-pg/
COPY --from=build /src/packages/store-pg/dist packages/store-pg/dist
COPY --from=build /src/packages/store-pg/drizzle packages/store-pg/drizzle
COPY --from=build /src/packages/sdk/package.json packages/sdk/
COPY --from=build /src/packages/sdk/dist packages/sdk/dist
COPY --from=build /src/packages/cli/package.json packages/cli/
COPY --from=build /src/packages/cli/bin packages/cli/bin
COPY --from=build /src/packages/cli/dist packages/cli/dist
# The operator console: dist/index.js (where its files are) and dist/ui (the files the coordinator serves at /ui).
COPY --from=build /src/packages/console/package.json packages/console/
COPY --from=build /src/packages/console/dist packages/console/dist
COPY --from=build /src/apps/coordinator/package.json apps/coordinator/
COPY --from=build /src/apps/coordinator/dist apps/coordinator/dist
COPY --from=build /src/apps/worker/package.json apps/worker/
COPY --from=build /src/apps/worker/dist apps/worker/dist
COPY examples examples
COPY deploy/docker/healthcheck.js deploy/docker/healthcheck.js
# `omnidaemon` on PATH for operators (`docker exec … omnidaemon health`); the apps themselves run without it.
RUN ln -s /app/packages/cli/bin/omnidaemon.js /usr/local/bin/omnidaemon
# The node user (uid 1000) of the base image; the root filesystem can be read-only (workdirs live in /tmp).
USER 1000:1000
EXPOSE 8765 9464
# Probes of whichever app runs here: the worker's /livez on OMNIDAEMON_METRICS_PORT, else the coordinator's.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "deploy/docker/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "apps/coordinator/dist/main.js"]
