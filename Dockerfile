# syntax=docker/dockerfile:1
# The `pem check` job image (docs/deployment.md). Two stages: `build` compiles TypeScript with the
# dev dependencies; `runtime` holds production dependencies and the compiled output only.
#
# Debian slim, not Alpine: DuckDB's prebuilt native binding (@duckdb/node-bindings-linux-*) is
# built against glibc. BASE_IMAGE is for the container tests, which build this very file on a
# locally made Node 20 image (no registry there: scripts/docker-engine.sh base); a release keeps
# the default.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build` precompiles the SQL templates into dist/sql/ after tsc (scripts/precompile-sql.mjs).
COPY sql ./sql
COPY scripts/precompile-sql.mjs ./scripts/
# One step that installs, compiles and drops what it installed: Docker hashes every layer it
# commits, and the dev dependencies (about 1 GB with npm's cache) cost half a minute per build
# that way; the stage keeps only dist/. --ignore-scripts: no dependency needs an install script
# to compile (the lockfile marks none among the production ones), and `prepare`
# (scripts/prepare.mjs, not in the build context) would only do the build that follows.
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && npm run build \
    && rm -rf node_modules "$(npm config get cache)"

FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="processor-execution-monitor" \
      org.opencontainers.image.description="pem check as a Cloud Run job" \
      org.opencontainers.image.licenses="Apache-2.0"
# The image exists to run in Cloud Run against BigQuery; `--engine duckdb` (or PEM_ENGINE) still wins.
ENV NODE_ENV=production \
    PEM_ENGINE=bigquery
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. --ignore-scripts again: without it npm runs `prepare`, i.e. tsc,
# which is a dev dependency and is not installed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY sql ./sql
COPY includes ./includes
COPY demo ./demo
# The `node` user (uid 1000) ships with the official image; the app files stay root-owned, read-only to it.
USER node
# `pem check` is the job; Cloud Run job arguments (gcloud run jobs deploy/execute --args) are appended.
ENTRYPOINT ["node", "/app/bin/pem.js", "check"]
