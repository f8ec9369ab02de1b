# rnnkit serve in a container, built on the official Swift image (not built on the project's
# machines: they have no Docker engine). Models are not baked in: mount them at /models.
#
#   docker build -t rnnkit .
#   docker run -p 8501:8501 -v "$PWD/Fixtures/lstm_sequences:/models:ro" rnnkit \
#       serve lstm=/models/keras3.keras --host 0.0.0.0
FROM swift:6.3-noble AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libhdf5-dev libjson-c-dev libdeflate-dev pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
# The test folders too: SwiftPM refuses a manifest whose targets' folders are missing.
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product rnnkit --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/rnnkit" /usr/local/bin/rnnkit

FROM ubuntu:noble
# The C libraries rnnkit links (HDF5, json-c, libdeflate and zlib); the Swift runtime is linked statically.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libhdf5-103-1t64 libjson-c5 libdeflate0 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 rnnkit
COPY --from=build /usr/local/bin/rnnkit /usr/local/bin/rnnkit
USER rnnkit
EXPOSE 8501
# SIGTERM (docker stop, Kubernetes) finishes the requests in flight, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rnnkit"]
CMD ["serve", "--help"]
