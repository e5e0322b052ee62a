# syntax=docker/dockerfile:1
# kubezone's container image: the release binary on distroless, as a non-root user.
#
#   docker build -t kubezone .
#   docker run --rm -p 1053:1053/udp -p 1053:1053/tcp -v "$PWD/config:/config:ro" kubezone --config /config/kubezone.yaml
#
# scripts/dockerfile-build.sh runs the builder stage's RUN commands outside a container (the
# test suite does), so keep them plain shell that works from the repository root.

ARG RUST_VERSION=1.92

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target folder between builds; the binary is copied out of
# the cached target folder.
RUN --mount=type=cache,id=kubezone-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=kubezone-target,target=/src/target \
    cargo build --release --locked -p kubezone \
    && mkdir -p dist \
    && cp "${CARGO_TARGET_DIR:-target}/release/kubezone" dist/kubezone

# glibc of Debian 12, as the builder's; uid 65532 (nonroot), as the Helm chart's runAsUser.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /src/dist/kubezone /usr/local/bin/kubezone
USER nonroot:nonroot
# DNS over UDP and TCP; HTTP for /healthz, /readyz, /metrics and /debug/explain.
EXPOSE 1053/udp 1053/tcp 8080/tcp
ENTRYPOINT ["/usr/local/bin/kubezone"]
