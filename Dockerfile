# digistore24-mcp: build with the Rust image, run on a small Debian.
#
#   docker build -t digistore24-mcp .
#   docker run --rm -p 8080:8080 digistore24-mcp serve --sandbox
#   docker run --rm -p 8080:8080 -e DS24_STATE_SECRET=... -e DS24_ALLOWED_HOSTS=mcp.example.com digistore24-mcp
#
# See "Deploying" in README.md, and deploy/ for compose, Kubernetes, systemd
# and nginx files.

# ---- build ------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src

# Dependencies first, in their own layer: a change to src/ does not rebuild
# them. The placeholder crate has the same targets (a library and a binary).
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src

# The real sources. COPY keeps the files' own timestamps, which can be older
# than the placeholder's build: touch them so cargo rebuilds the crate.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && strip target/release/digistore24-mcp \
 && ./target/release/digistore24-mcp --version

# ---- run --------------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates: the HTTPS client verifies Digistore24 against the system's
# roots. Nothing else is installed (the health check below needs only bash).
# Not pinned to a version: security updates of the roots should come along.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ds24 \
 && useradd --system --uid 10001 --gid ds24 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ds24

COPY --from=build /src/target/release/digistore24-mcp /usr/local/bin/digistore24-mcp

# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

ENV DS24_MCP_LISTEN=0.0.0.0:8080
EXPOSE 8080

# GET /health on the port of DS24_MCP_LISTEN, with bash's /dev/tcp (no curl
# in the image). For a container serving HTTPS itself (--tls-cert), use the
# orchestrator's own probe instead.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${DS24_MCP_LISTEN##*:} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM starts draining (see --shutdown-delay-secs and --shutdown-grace-secs);
# give `docker stop` at least delay + grace + a little (docker stop -t 35).
STOPSIGNAL SIGTERM
ENTRYPOINT ["digistore24-mcp"]
CMD ["serve"]
