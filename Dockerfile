# halo-slack in a container: `docker build -t halo-slack .`, then see docs/deploy.md.
#
# The build stage compiles src/ to dist/ and better-sqlite3's native binding; the final stage holds the
# production dependencies, that binding and dist/, and runs as an unprivileged user. test/e2e/deploy.test.ts
# replays the final stage's steps in a temporary folder and starts the bot from it.

FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 downloads a prebuilt binding, or compiles one when none fits this platform: the compiler it may
# need stays in this stage.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; better-sqlite3's own install runs next.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY build.js tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-slim
# Read by npm and by some libraries; the bot's own behaviour depends on its settings only.
ENV NODE_ENV=production
WORKDIR /app
# build.js: so that `npm start` works in the container too (its prestart finds dist/ current: no sources here).
COPY package.json package-lock.json build.js ./
# Production dependencies only. --ignore-scripts: better-sqlite3 is the one production dependency with an install
# script (it builds its native binding); the binding is copied from the build stage, built there on the same base
# image and Node, so this image needs no compiler. The cache is emptied: the image does not need the tarballs.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/node_modules/better-sqlite3/build/Release/better_sqlite3.node ./node_modules/better-sqlite3/build/Release/
COPY --from=build /app/dist ./dist
# SQLite (the default DATABASE_URL, sqlite:./data/halo-slack.db) lives in a volume owned by the bot's user, so
# that the database outlives the container. With DATABASE_URL=postgres://… the volume stays empty.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
# The `node` user (uid 1000) comes with the base image.
USER node
EXPOSE 3000
# Healthy while /healthz answers 200: the process serves HTTP. A body saying "degraded" (Halo or the database
# failing) is for monitoring; marking the container unhealthy then would take it out of a proxy's rotation and
# cut off the Slack commands that can still be answered.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# npm start's command (package.json; the test checks they match), without npm in between: node is PID 1 and gets
# docker stop's SIGTERM itself. --no-env-file: settings come from the container's environment (docker run --env-file
# .env, or compose's env_file), never from a .env baked into the image.
CMD ["node", "--expose-gc", "--max-semi-space-size=1", "--single-threaded-gc", "--initial-old-space-size=64", "dist/main.js", "--no-env-file"]
