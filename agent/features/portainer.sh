#!/usr/bin/env bash
# Phoenix feature: portainer. The Portainer server or agent as a docker container. Needs docker.
# Params (env): PHOENIX_ROLE (server|agent, default agent), PHOENIX_VERSION (image tag, default lts).
ROLE="${PHOENIX_ROLE:-agent}"
TAG="${PHOENIX_VERSION:-lts}"
if [ "$ROLE" = server ]; then NAME=portainer; IMAGE="portainer/portainer-ce:${TAG}"; else NAME=portainer_agent; IMAGE="portainer/agent:${TAG}"; fi

running() { [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null || true)" = true ]; }
same_image() { [ "$(docker inspect -f '{{.Config.Image}}' "$NAME" 2>/dev/null || true)" = "$IMAGE" ]; }

if command -v docker >/dev/null 2>&1 && running && same_image; then
  phoenix_log "portainer: ${NAME} (${IMAGE}) already running"
  exit 0
fi

command -v docker >/dev/null 2>&1 || phoenix_fail "portainer needs the docker feature"
if docker inspect "$NAME" >/dev/null 2>&1; then
  if same_image; then
    phoenix_progress 50 "starting the existing ${NAME} container"
    docker start "$NAME"
    running || phoenix_fail "${NAME} did not start"
    exit 0
  fi
  phoenix_progress 20 "replacing ${NAME} (different image)"
  docker rm -f "$NAME"
fi
phoenix_progress 30 "pulling ${IMAGE}"
retry 3 5 docker pull "$IMAGE"
phoenix_progress 70 "starting ${NAME}"
if [ "$ROLE" = server ]; then
  docker volume create portainer_data >/dev/null
  docker run -d --name "$NAME" --restart=always -p 8000:8000 -p 9443:9443 \
    -v /var/run/docker.sock:/var/run/docker.sock -v portainer_data:/data "$IMAGE"
else
  docker run -d --name "$NAME" --restart=always -p 9001:9001 \
    -v /var/run/docker.sock:/var/run/docker.sock -v /var/lib/docker/volumes:/var/lib/docker/volumes -v /:/host "$IMAGE"
fi
running || phoenix_fail "${NAME} is not running"
phoenix_progress 100 "portainer ${ROLE} ready"
