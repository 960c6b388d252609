# Moratorium: node 20, better-sqlite3 built from source (no prebuilt binary downloads).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 MORATORIUM_DB=/data/moratorium.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json app.yml ./
COPY src ./src
COPY bin ./bin
COPY schema ./schema
# state lives in a volume; never bake a .env into the image
VOLUME ["/data"]
EXPOSE 3000
USER node
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/moratorium/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# run node directly (not npm) so SIGTERM reaches the app, which closes the server, scheduler and database
CMD ["node", "--import", "tsx", "src/main.ts"]
