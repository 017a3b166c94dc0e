# The two commands in the README: `make demo` and `make test`. Each creates
# .venv if missing and installs everything pinned by constraints.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# pip warns once per package about every configured index location that does not hold it (a machine's
# global pip config can list several): drop exactly those lines, keep every other message and pip's status.
SHELL  := /bin/bash
QUIET_PIP := 2>&1 | { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$$" || true; }
# Reinstall whenever the dependency inputs change.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml setup.py constraints.txt 2>/dev/null | sha256sum | cut -c1-16)

.PHONY: install sysdeps demo test test-fast lint bench constraints clean fuzz

# System tools the gates and their tests use: git/ssh-keygen/gpg (source integrity),
# unshare/setpriv and a system python3 (local isolation sandbox), java (Spark engine).
# Present on this project's machines; installed from Debian packages when missing (as root).
SYSTOOLS := git:git ssh-keygen:openssh-client gpg:gnupg unshare:util-linux setpriv:util-linux java:default-jre-headless
sysdeps:
	@missing=""; for pair in $(SYSTOOLS); do tool=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	test -x /usr/bin/python3 || missing="$$missing python3"; \
	if [ -n "$$missing" ]; then echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

$(STAMP): pyproject.toml setup.py constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	set -o pipefail; $(PIP) install -c constraints.txt -e '.[test,lint]' $(QUIET_PIP)
	@rm -f $(VENV)/.installed-*
	@touch $@

install: sysdeps $(STAMP)

demo: install
	$(BIN)/python -m kfp_gates.pipelines.demo

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-fast: install
	$(BIN)/python -m pytest -q -m "unit" tests

# .mypy_tree holds kfp_gates/{components,sdk,pipelines} as symlinks: mypy and import-linter read
# files, and cannot follow the import hook that maps the folders in an editable install.
lint: install
	$(BIN)/ruff check .
	rm -rf .mypy_tree && mkdir -p .mypy_tree/kfp_gates
	ln -s ../../components .mypy_tree/kfp_gates/components
	ln -s ../../sdk .mypy_tree/kfp_gates/sdk
	ln -s ../../pipelines .mypy_tree/kfp_gates/pipelines
	PYTHONPATH=.mypy_tree $(BIN)/lint-imports
	$(BIN)/mypy -p kfp_gates.components -p kfp_gates.sdk -p kfp_gates.pipelines

# Differential fuzzers (tests/adversarial) for longer than `make test` runs them; a random seed
# unless FUZZ_SEED is set (printed either way). New bypasses are kept under tests/adversarial/regressions/.
FUZZ_SECONDS ?= 600
fuzz: install
	$(BIN)/python -W ignore -m tests.adversarial.fuzzer --seconds $(FUZZ_SECONDS) --save $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

# Benchmarks (numbers go to benchmarks/RESULTS.md); the bench extra adds the scanners compared against.
bench: install
	$(PIP) install -c constraints.txt -e '.[test,lint,bench]'
	for b in benchmarks/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Model-scan allowlist: exact library globals, generated from the pinned versions (in the local sandbox).
.PHONY: model-scan-allowlist
model-scan-allowlist: install
	$(BIN)/python -m kfp_gates.sdk.tools.build_model_scan_allowlist

# Refresh the pins after changing dependencies in pyproject.toml.
constraints: install
	$(PIP) install -c constraints.txt -e '.[test,lint,bench]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^kfp-gates' > constraints.txt

# The component image (deploy/Dockerfile), built offline into podman's local storage as $(IMAGE):
# a Debian root filesystem from mmdebstrap as the base (no registry), every Python package from a
# local wheelhouse with hashes. podman runs with deploy/containers.conf (runc, no default ulimits),
# never the user's config. Outputs under .image-build/ (it ignores itself; `make clean` keeps it).
# TRIVY_TARBALL=path/to/trivy-offline.tar.gz adds trivy and its DB (see deploy/Dockerfile).
IMAGE         ?= localhost/kfp-gates:dev
IMAGE_BASE    ?= localhost/kfp-gates-base:bookworm
IMAGE_OUT     := .image-build
TRIVY_TARBALL ?=
PODMAN        := env CONTAINERS_CONF=$(CURDIR)/deploy/containers.conf podman
IMAGE_TOOLS   := podman:podman buildah:buildah mmdebstrap:mmdebstrap runc:runc
.PHONY: image image-test image-sysdeps
image-sysdeps:
	@missing=""; for pair in $(IMAGE_TOOLS); do tool=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

$(IMAGE_OUT)/rootfs.tar: deploy/image/rootfs.sh | image-sysdeps
	@mkdir -p $(IMAGE_OUT) && echo '*' > $(IMAGE_OUT)/.gitignore
	nice -n 10 deploy/image/rootfs.sh $@

image: install image-sysdeps $(IMAGE_OUT)/rootfs.tar
	@set -eo pipefail; ctx=$(IMAGE_OUT)/context; commit=$$(git rev-parse HEAD); \
	deps=$$({ cat deploy/image/*.sh deploy/image/*.py; for p in constraints.txt pyproject.toml setup.py; do \
	  git rev-parse $$commit:$$p; done; } | sha256sum | cut -c1-16); \
	key=$$deps-$$(for p in components sdk pipelines MANIFEST.in; do git rev-parse $$commit:$$p; done | sha256sum | cut -c1-16); \
	old=$$(cat $(IMAGE_OUT)/wheelhouse.key 2>/dev/null || true); \
	if [ "$$old" != "$$key" ]; then \
	  PYTHON=$(BIN)/python SOURCE_COMMIT=$$commit APP_ONLY=$$([ "$${old%-*}" != "$$deps" ] || echo 1) \
	    nice -n 10 deploy/image/wheelhouse.sh $$ctx && echo "$$key" > $(IMAGE_OUT)/wheelhouse.key; fi; \
	if ! $(PODMAN) image exists $(IMAGE_BASE) || [ $(IMAGE_OUT)/rootfs.tar -nt $(IMAGE_OUT)/base.id ]; then \
	  echo "importing $(IMAGE_OUT)/rootfs.tar as $(IMAGE_BASE)"; \
	  $(PODMAN) import --quiet --change 'CMD ["/bin/sh"]' \
	    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	    $(IMAGE_OUT)/rootfs.tar $(IMAGE_BASE) > $(IMAGE_OUT)/base.id; fi; \
	rm -f $$ctx/trivy/*; $(if $(TRIVY_TARBALL),cp $(TRIVY_TARBALL) $$ctx/trivy/;) \
	nice -n 10 $(PODMAN) build --runtime runc --network none --pull=never --layers -f deploy/Dockerfile \
	  --build-arg BASE=$(IMAGE_BASE) --build-arg VERSION=$$(git show $$commit:pyproject.toml | sed -n 's/^version = "\(.*\)"/\1/p') \
	  --build-arg SOURCE_COMMIT=$$commit --build-arg SOURCE_DATE=$$(git log -1 --format=%cI $$commit) \
	  $(if $(TRIVY_TARBALL),--build-arg TRIVY_TARBALL=$(notdir $(TRIVY_TARBALL))) -t $(IMAGE) $$ctx; \
	$(PODMAN) image inspect --format '{{.Id}} {{.Digest}} {{.Size}}' $(IMAGE) > $(IMAGE_OUT)/image.txt; \
	read -r id digest size < $(IMAGE_OUT)/image.txt; \
	echo "$(IMAGE) (commit $${commit:0:12}): image ID sha256:$$id, manifest digest $$digest, $$((size/1000000)) MB"; \
	echo "a push produces its own digest: set KFP_GATES_IMAGE=<registry>/kfp-gates@<digest podman push printed>"

# The executor command of the compiled components, run in the image: --network none, read-only.
image-test: image
	CONTAINERS_CONF=$(CURDIR)/deploy/containers.conf $(BIN)/python deploy/image_test.py --image $(IMAGE)

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_tree .mypy_cache .ruff_cache .pytest_cache
