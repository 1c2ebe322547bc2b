# inctrl-serve in a container (README "Deploying with Docker").
#
# The steps are the scripts that `scripts/serve` runs, split across two stages, and must
# stay identical to them: the build stage runs scripts/bootstrap and scripts/build-release
# in a Swift toolchain image; the runtime stage is slim Debian with only the runtime
# libraries, and its entrypoint is scripts/start-server (model preparation, then
# `inctrl serve`). Changing what those scripts do means changing this file alike, and
# the other way round, so that the image does what the README's Quick start does.
#
#   docker build -t inctrl-serve .
#   docker run -p 8080:8080 -v inctrl-data:/data -v inctrl-models:/models inctrl-serve
#
# Configuration is by environment (every INCTRL_* key of the README's Configuration table);
# a released checkpoint is converted at start when INCTRL_CHECKPOINT names it inside a
# mounted volume; without one the container serves a demo model and says so.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Debian -dev packages (and pip) and the tokenizer vocabulary, in a layer of their own so
# source edits do not redo them. Behind a TLS-inspecting proxy, pass its CA bundle as the
# optional build secret ca-bundle (`--secret id=ca-bundle,src=FILE`) for pip's download.
COPY scripts/bootstrap scripts/fetch-vocab scripts/
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && scripts/bootstrap
COPY . .
# Installed without its symbol table and debug information (86 MB → 62 MB): crash reports
# then show addresses, not function names.
RUN executable="$(scripts/build-release)" && install -D --strip "$executable" /opt/inctrl/bin/inctrl

FROM ${RUNTIME_IMAGE}
# The shared libraries the statically linked Swift executable still needs, as Debian
# packages, and nothing else: oneDNN (38 MB of the 50 MB, with its OpenMP runtime, which our
# own kernels run on too), libspng, TurboJPEG, zlib, OpenSSL, libpq (the PostgreSQL store,
# with its Kerberos and LDAP libraries) and the C++ runtime. The health check needs no HTTP client (scripts/healthcheck
# is bash). apt's lists, caches and logs and dpkg's backups are not kept.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libdnnl2 libspng0 libturbojpeg0 zlib1g libssl3 libpq5 libstdc++6 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/lib/dpkg/*-old \
        /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN useradd --system --user-group --uid 10001 --home-dir /opt/inctrl --shell /usr/sbin/nologin inctrl \
    && mkdir -p /data /models \
    && chown inctrl:inctrl /data /models

COPY --from=build /opt/inctrl/bin/inctrl /usr/local/bin/inctrl
COPY --from=build /src/.cache/bpe_simple_vocab_16e6.txt.gz /opt/inctrl/.cache/bpe_simple_vocab_16e6.txt.gz
COPY Config/inctrl.json /opt/inctrl/Config/inctrl.json
COPY scripts/start-server scripts/healthcheck /opt/inctrl/scripts/
WORKDIR /opt/inctrl

# The container listens on every interface, so the server refuses to start without API keys:
# mount a keys file made with `inctrl keys create` and point INCTRL_API_KEYS_FILE at it (or,
# knowingly, set INCTRL_ALLOW_UNAUTHENTICATED=true).
ENV INCTRL_HOST=0.0.0.0 \
    INCTRL_PORT=8080 \
    INCTRL_DATA_DIR=/data \
    INCTRL_MODEL=/models/inctrl
# Prompt sets and their feature cache; model bundles (and checkpoints to convert).
VOLUME ["/data", "/models"]
USER inctrl
EXPOSE 8080
# SIGTERM: stop accepting, finish in-flight requests within shutdown_grace_s, exit 0.
STOPSIGNAL SIGTERM
# A first start writes or converts the model bundle (about 835 MB) before it listens.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5m --retries=3 \
    CMD ["/opt/inctrl/scripts/healthcheck"]
ENTRYPOINT ["/opt/inctrl/scripts/start-server"]
