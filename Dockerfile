# signald container image: Debian 12, built in one stage, run from a second
# stage that holds only the runtime libraries, as a non-root user.
#
#   docker build -t signald .
#   docker run -p 8080:8080 -e JWT_SECRET=... -e REDIS_URL=redis://redis:6379/0 signald
#
# scripts/check-deploy checks this file offline (no Docker engine needed):
# the runtime packages cover every library the binary links, and the build
# stage's COPY set and commands build the tree.
ARG DEBIAN_IMAGE=debian:12-slim

# --- build: compilers and -dev packages -------------------------------------
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libwebsockets-dev libwebsockets-evlib-uv libhiredis-dev libmsgpack-dev \
        libjwt-dev libjansson-dev libuv1-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY common/ common/
COPY signald/ signald/
COPY tools/ tools/
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGNALD_TESTS=OFF \
    && cmake --build build -j"$(nproc)" \
    && strip build/signald/signald build/tools/signald-token

# --- static: the demo page (web/), when the tree has one ---------------------
FROM ${DEBIAN_IMAGE} AS static
COPY . /context
RUN mkdir -p /out/web \
    && if [ -d /context/web ]; then cp -a /context/web/. /out/web/; fi

# --- runtime: shared libraries only -----------------------------------------
FROM ${DEBIAN_IMAGE}
# libwebsockets-evlib-uv is libwebsockets' libuv event-loop plugin: the
# runtime library does not pull it in, and without it the context cannot be
# created ("unable to load evlib plugin"). curl serves the HEALTHCHECK.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libwebsockets17 libwebsockets-evlib-uv libhiredis0.14 libuv1 libjansson4 \
        libjwt0 libmsgpackc2 libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 signald \
    && useradd --system --uid 10001 --gid signald --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin signald
COPY --from=build /src/build/signald/signald /src/build/tools/signald-token /usr/local/bin/
COPY --from=static /out/web /usr/share/signald/web
ENV PORT=8080 \
    BIND=0.0.0.0 \
    STATIC_DIR=/usr/share/signald/web
EXPOSE 8080
USER 10001:10001
# SIGTERM drains: /readyz turns 503, clients get 1001 and reconnect elsewhere.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/signald"]
