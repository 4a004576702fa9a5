# GPT4Free Pool: the API and its admin console in one image.
#
#   docker build -t gpt4free-pool:0.1.0 .
#   docker run -d -p 8080:8080 -v gpt4free-pool-data:/data --stop-timeout 40 gpt4free-pool:0.1.0
#
# The image runs as the unprivileged `node` user (uid 1000), keeps everything it writes under
# DATA_DIR (/data, a volume), and stops gracefully on SIGTERM: requests in flight get
# SHUTDOWN_GRACE_SECONDS (30 s by default) to finish, so give `docker stop` more than that.
#
# Built with BuildKit (the default builder of Docker 23+ and of `docker compose`): the
# `RUN --mount=type=cache` lines keep npm's download cache between builds, outside the image.
# No `# syntax=` line: BuildKit's built-in Dockerfile frontend already knows cache mounts, and
# naming a frontend would make every build pull docker/dockerfile from Docker Hub (and fail offline).

ARG NODE_IMAGE=node:24-slim

# ---- build: every dependency, then `npm run build` (the API with tsc, the console with Angular) into dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NG_CLI_ANALYTICS=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies only, the build output and the model catalog
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# The cache lives in the mount, not in a layer: nothing to clean afterwards. @nestjs/swagger lists
# typescript as a dependency for its build-time CLI plugin only; the running gateway never loads it
# (24 MB of the 151 MB of production dependencies).
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/typescript
# dist/apps/api (the API), dist/libs (shared contracts), dist/admin (the console, served at /).
COPY --from=build /app/dist ./dist
COPY catalog ./catalog
# The code stays root-owned and read-only for the app; only DATA_DIR is its own.
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# While starting (up to --start-period) Docker checks every --start-interval, so `docker compose`
# sees the gateway healthy about a second after it listens instead of after a first 30 s interval;
# then every 30 s. --start-interval needs Docker Engine 25 or later (older ones reject the flag).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=1s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/health/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same command as `npm start`: --max-semi-space-size caps V8's young generation, which on a
# machine with much RAM would otherwise grow to 64 MB × 2; --no-allocation-site-pretenuring keeps
# each request's objects in the young generation, where they die with the request, instead of
# letting them hold the rest of it through the next young-generation GC (see bench/README.md).
CMD ["node", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "dist/apps/api/src/main.js"]
