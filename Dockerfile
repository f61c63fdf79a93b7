# syntax=docker/dockerfile:1
# mesodns container image (helm-free-deploy/README.md "Container image").
#
#   docker build -t registry.example.internal/mesodns:0.1.0 .
#   docker run -d --name mesodns -p 53:53/udp -p 53:53/tcp -p 8123:8123 \
#     -v /etc/mesodns:/etc/mesodns:ro registry.example.internal/mesodns:0.1.0
#
# The config is read from /etc/mesodns/mesodns.yaml: mount it (or its directory). The image ships
# no config on purpose, so a forgotten mount fails at once instead of serving made-up records.
# The process runs as the unprivileged `node` user (uid 1000) of the official image; the node
# binary carries the file capability CAP_NET_BIND_SERVICE so that it can bind port 53.
# test/deploy/dockerfile.test.ts lints this file and runs its build and start commands.

# ---- build stage: compile the TypeScript sources with the full dependency set ----
FROM node:20-bookworm-slim AS build
# node-gyp builds the native addons (native/: batched UDP, malloc trim) during npm ci: python3,
# make, g++.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
# npm's download cache lives in a BuildKit cache mount: shared between builds, never in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
# esbuild bundles src/ into dist/ (scripts/build.ts), which also compiles the config schema's
# validator; tsconfig.json holds the compiler options esbuild follows.
COPY tsconfig.json ./
COPY config/mesodns.schema.json ./config/
COPY scripts/build.ts ./scripts/
COPY src ./src
RUN npm run build

# ---- final stage: the compiled program and the production dependencies only ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MESODNS_HEALTH_URL=http://127.0.0.1:8123/health

# Port 53 without root: a file capability on the node binary (the way the CoreDNS image does it).
# Docker's default capability set includes NET_BIND_SERVICE; a container started with
# `--cap-drop ALL` must add it back (`--cap-add NET_BIND_SERVICE`), or exec fails with EPERM.
# setcap comes from libcap2-bin, which is removed again (the capability is an xattr of the file).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcap2-bin \
    && setcap cap_net_bind_service=+ep "$(readlink -f /usr/local/bin/node)" \
    && apt-get purge -y --auto-remove libcap2-bin \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts here (no compiler in this stage): the addons come from the build stage.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# The JSON Schema is read at run time to validate the config.
COPY config/mesodns.schema.json ./config/
COPY --from=build /app/dist ./dist
COPY --from=build /app/build/Release/udp_batch.node /app/build/Release/mem_trim.node \
     /app/build/Release/json_scan.node ./build/Release/

USER node
EXPOSE 53/udp 53/tcp 8123/tcp

# /health answers 200 while the process runs. The slim image has no curl: Node's fetch instead.
# Set MESODNS_HEALTH_URL when http.listen is not on port 8123 of the loopback or a wildcard.
# (No --start-period: the server answers within a second, and dockerfilelint 1.8 rejects it.)
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
    CMD ["node", "-e", "fetch(process.env.MESODNS_HEALTH_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# `docker run IMAGE check-config /etc/mesodns/mesodns.yaml` runs another subcommand.
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve", "--config", "/etc/mesodns/mesodns.yaml"]
