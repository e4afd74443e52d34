# syntax=docker/dockerfile:1
# m3u-proxy container: bundle the TypeScript in a build stage, run the bundle (dist/main.cjs) on a slim Node image as a non-root user.
# The program has zero runtime dependencies, so the runtime stage carries no node_modules at all.
# Configuration is by environment variable (README "Settings"); flags can be appended to `docker run IMAGE`.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Dev dependencies only (esbuild, tsx); no install scripts are needed to bundle.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin/build.ts bin/bundle.ts ./bin/
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8085 \
    LOG_LEVEL=info \
    STATE_FILE=/data/state.json
WORKDIR /app
# curl: m3u-editor's compose file health-checks the proxy with `curl -f http://127.0.0.1:PORT/health?api_token=...`
# inside this image (SPEC §11). Only curl and its libraries (no recommends), and no apt lists left behind.
# The transcoding variant (SPEC §13): `docker build --build-arg TRANSCODE=true .` adds Debian's FFmpeg, streamlink
# and yt-dlp; the default image stays small. VA-API needs the host's /dev/dri passed in (--device /dev/dri).
ARG TRANSCODE=false
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && if [ "$TRANSCODE" = "true" ]; then apt-get install -y --no-install-recommends ffmpeg streamlink yt-dlp; fi \
 && rm -rf /var/lib/apt/lists/*
# Files stay root-owned and read-only for the runtime user.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist ./dist
# SPEC §12: streams, webhooks and the generated URL_SECRET live in /data; owned by the runtime user, so a fresh named
# volume (which copies this directory's ownership) is writable. Mount a volume there to keep them across containers.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# The node image's unprivileged user (uid 1000); it writes only the state file in /data.
USER node
EXPOSE 8085
# /livez never needs the API token; Node's own fetch does the probe, so that PORT and ROOT_PATH are honoured.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||process.env.M3U_PROXY_PORT||8085)+(process.env.ROOT_PATH||'')+'/livez',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM starts the graceful shutdown (SPEC §8: up to 10 s); give the container stop_grace_period: 15s.
STOPSIGNAL SIGTERM
# Exec form: node is PID 1 and receives SIGTERM itself. `docker run IMAGE list --url ...` runs a CLI command.
ENTRYPOINT ["node", "dist/main.cjs"]
