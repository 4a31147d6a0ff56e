# chunkmesh router: compiled JavaScript on node, the native addon for chunk keys (CPU build).
# Build from the repository root: docker build -f deploy/docker/router.Dockerfile -t chunkmesh/router .
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake g++ make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN deploy/docker/build-app.sh cpu /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production
COPY --from=build /out/app /app
COPY --from=build /out/models /opt/chunkmesh/models
WORKDIR /app
USER 10001:10001
EXPOSE 50051 8080 9462
ENTRYPOINT ["node", "services/router/dist/main.js"]
