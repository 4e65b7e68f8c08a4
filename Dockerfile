# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds from src/, which is copied below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY examples/upstream ./examples/upstream
RUN npx tsc -p tsconfig.build.json

# Runtime stage: production dependencies and compiled JavaScript only, as the unprivileged `node` user.
# --omit=optional too: typescript is an optional peer of viem/ox/abitype, so --omit=dev alone keeps it.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The bundled example API, for a config whose upstream.url is "example" (the sample config only).
COPY examples/upstream/server.mjs ./examples/upstream/server.mjs
COPY gateway.config.yaml /etc/mpp-gateway/gateway.config.yaml
USER node
# 9402: the admin port (metrics, config), which needs MPP_ADMIN_TOKEN to listen beyond loopback
EXPOSE 8402 9402
# Mount your own config over /etc/mpp-gateway/gateway.config.yaml; the health check reads its `listen`.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "dist/cli/main.js", "healthcheck", "--config", "/etc/mpp-gateway/gateway.config.yaml"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--config", "/etc/mpp-gateway/gateway.config.yaml"]
