# RNNKit: `make demo` and `make test` work on a fresh Debian machine with Swift installed.
SWIFT ?= swift
APT_PACKAGES := libhdf5-dev libjson-c-dev libdeflate-dev pkg-config graphviz
RNNKIT := .build/debug/rnnkit
# make fuzz: seconds per libFuzzer target, and which target (hdf5, keras, json, tensors, onnx or all).
SECONDS ?= 600
FUZZ_TARGET ?= all

.PHONY: deps build demo test fuzz spark-example clean

# Installs the system packages RNNKit needs: the libraries it links, and Graphviz for `rnnkit plot`
# (apt-get when root; otherwise says what to install).
deps:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "RNNKit needs:$$missing. Install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build --product rnnkit

demo: build
	$(RNNKIT) summary Fixtures/seq2seq/keras3.keras
	$(RNNKIT) validate Fixtures/seq2seq/keras3.keras
	$(RNNKIT) predict Fixtures/seq2seq/keras3.keras \
	  --input Fixtures/seq2seq/input_0.npy --input Fixtures/seq2seq/input_1.npy --output .build/demo-output.npy --force
	@echo "Wrote the encoder-decoder's predictions to .build/demo-output.npy; as JSON:"
	$(RNNKIT) predict Fixtures/simple_rnn/keras3.keras --input Fixtures/simple_rnn/input_0.npy
	$(RNNKIT) plot Fixtures/seq2seq/keras3.keras .build/seq2seq.svg --show-shapes --force

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Builds the libFuzzer targets into .build/fuzz and fuzzes each for SECONDS, one after the other
# (Fuzz/README.md); fails if a run made a new finding in .build/fuzz-artifacts.
fuzz: deps
	Fuzz/run.sh $(FUZZ_TARGET) $(SECONDS)

# Scores a Spark DataFrame through `rnnkit predict --format ndjson -` in local mode on 4 partitions and
# checks it against a direct run (Examples/spark/README.md); installs pinned pyspark. Not run by `make test`.
spark-example: deps
	Examples/spark/run.sh

clean:
	rm -rf .build
