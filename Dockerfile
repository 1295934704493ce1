# switchyard container image. Build: docker build -t switchyard .
# Run:   docker run -p 8080:8080 -e SWITCHYARD_STABLE_URL=http://app:3000 switchyard
# The default config is config/container.yaml; README "Run it in a container" has the rest.

# Build stage: all dependencies, TypeScript compiled to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the base image's Node compiles; the `node` devDependency (which pins Node
# for npm scripts on developer machines) would download a second one.
RUN npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
  && find dist -name '*.map' -delete \
  && chmod 0755 dist/cli/main.js

# Runtime stage: production dependencies and the compiled JavaScript, owned by root and run as
# the unprivileged `node` user (uid 1000), so the process cannot change its own code.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
  && rm -rf /root/.npm /tmp/*
COPY --from=build /src/dist ./dist
COPY config/container.yaml /etc/switchyard/switchyard.yaml
COPY deploy/container/entrypoint.sh /usr/local/bin/switchyard-entrypoint
RUN chmod 0755 /usr/local/bin/switchyard-entrypoint \
  && ln -s /app/dist/cli/main.js /usr/local/bin/switchyard
USER node
# 8080: the proxy. 9901: admin API, /metrics, /healthz, /readyz (on 127.0.0.1 without a token).
EXPOSE 8080 9901
STOPSIGNAL SIGTERM
# Node's own fetch: no curl or wget in the image. The port follows SWITCHYARD_ADMIN_LISTEN.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const port = (process.env.SWITCHYARD_ADMIN_LISTEN || ':9901').split(':').pop(); fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
ENTRYPOINT ["switchyard-entrypoint"]
CMD ["switchyard", "serve", "--config", "/etc/switchyard/switchyard.yaml"]
