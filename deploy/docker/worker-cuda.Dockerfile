# chunkmesh worker for GPU nodes: the addon built with nvcc for sm_80 and sm_90 (A100, H100) in the
# CUDA devel image, run on the CUDA runtime image (the addon links cudart statically; the driver
# comes from the node through the NVIDIA container toolkit). node is copied from the official image.
# Build from the repository root: docker build -f deploy/docker/worker-cuda.Dockerfile -t chunkmesh/worker-cuda .
ARG CUDA_VERSION=12.4.1
FROM node:20-bookworm-slim AS node

FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake g++ make python3 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /src
COPY . .
RUN deploy/docker/build-app.sh cuda /out

FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04
ENV NODE_ENV=production
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=build /out/app /app
COPY --from=build /out/models /opt/chunkmesh/models
WORKDIR /app
USER 10001:10001
EXPOSE 50061 9461
ENTRYPOINT ["node", "services/worker/dist/main.js"]
