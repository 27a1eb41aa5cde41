# One image for every Tansu process; docker-compose.yml picks the entry point per service.

# Only the package manifests, so the dependency layer below is rebuilt when they change
# and not on every source edit.
FROM node:24-slim AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -depth -type d -empty -delete

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=manifests /app ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY . .
# The data directory is the only place the app writes to; everything else stays root-owned.
RUN mkdir -p /app/.tansu && chown node:node /app/.tansu
USER node
EXPOSE 4000 4101 4102 4103 4104
CMD ["node", "router/src/main.ts"]
