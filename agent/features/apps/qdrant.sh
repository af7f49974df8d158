#!/usr/bin/env bash
# Phoenix application: qdrant. Runs qdrant/qdrant in docker with its storage on a host path.
# Arguments: [storage dir (default /qdrant/storage)] [image tag (default latest)]. Needs docker.
STORAGE="${1:-/qdrant/storage}"
TAG="${2:-latest}"
IMAGE="qdrant/qdrant:${TAG}"
running() { [ "$(docker inspect -f '{{.State.Running}}' qdrant 2>/dev/null || true)" = true ]; }
same() { [ "$(docker inspect -f '{{.Config.Image}}' qdrant 2>/dev/null || true)" = "$IMAGE" ]; }

command -v docker >/dev/null 2>&1 || phoenix_fail "qdrant needs the docker feature"
if running && same; then
  phoenix_log "qdrant: already running"
  exit 0
fi
docker network inspect qdrant_network >/dev/null 2>&1 || docker network create qdrant_network
docker inspect qdrant >/dev/null 2>&1 && docker rm -f qdrant
mkdir -p "$STORAGE"
phoenix_progress 40 "pulling ${IMAGE}"
retry 3 5 docker pull "$IMAGE"
phoenix_progress 70 "starting qdrant"
docker run -d --name qdrant --restart always --network qdrant_network -p 6333:6333 -p 6334:6334 \
  -v "${STORAGE}:/qdrant/storage" "$IMAGE"
running || phoenix_fail "qdrant is not running"
phoenix_progress 100 "qdrant ready"
