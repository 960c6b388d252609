# Moratorium: node 20, better-sqlite3 built from source (no prebuilt binary downloads).
# The build stage installs everything (`npm ci` runs `prepare`, which compiles src/ to dist/), then
# drops the development dependencies; the image runs the compiled JavaScript, no TypeScript loader.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 MORATORIUM_DB=/data/moratorium.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json app.yml ./
COPY bin ./bin
COPY schema ./schema
# state lives in a volume; never bake a .env into the image
VOLUME ["/data"]
EXPOSE 3000
USER node
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/moratorium/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# run node directly (not npm) so SIGTERM reaches the app, which closes the server, scheduler and database
CMD ["node", "dist/main.js"]
