#!/bin/bash
# Local wheelhouse for the component image: kfp-gates, built from the committed tree (HEAD, or
# $SOURCE_COMMIT), and every run-time dependency at the version that commit's constraints.txt
# pins, all as wheels (sdist-only packages such as kfp-server-api are built here, before the image
# build), plus a requirements file with the sha256 of each wheel for
# `pip install --no-index --require-hashes`.
#   deploy/image/wheelhouse.sh CONTEXT
# fills CONTEXT/wheels (dependencies), CONTEXT/app (the kfp-gates wheel), CONTEXT/tools (pip's own
# wheel), creates CONTEXT/trivy; each wheel directory has its hashed requirements.txt.
# Network: the package index only (PyPI, or the index pip is configured with).
set -euo pipefail
out=${1:?usage: wheelhouse.sh CONTEXT}
python=${PYTHON:-python3}
repo=$(git rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse "${SOURCE_COMMIT:-HEAD}^{commit}")
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
rm -rf "$out/wheels.partial"
mkdir -p "$out/wheels.partial" "$out/tools" "$out/trivy"
# The committed tree, not the work tree: the image's revision label must describe its contents.
git -C "$repo" archive --format=tar "$commit" | tar -x -C "$src"
# Only the index pip is configured with; local find-links (PIP_FIND_LINKS) would let stray wheels in.
export PIP_FIND_LINKS= PIP_DISABLE_PIP_VERSION_CHECK=1
# pip warns about each configured index location that does not hold a package (as in the Makefile).
pipw() { "$python" -m pip --no-input "$@" 2>&1 \
  | { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$" || true; }; }
rm -rf "$out/app.partial" && mkdir "$out/app.partial"
if [ -n "${APP_ONLY:-}" ] && [ -f "$out/wheels/requirements.txt" ]; then
  # Dependencies unchanged (the caller knows: constraints.txt, pyproject.toml, setup.py): kfp-gates only.
  pipw wheel --quiet --no-deps --wheel-dir "$out/app.partial" "$src"
  rm -rf "$out/wheels.partial"
else
  pipw wheel --quiet --wheel-dir "$out/wheels.partial" -c "$src/constraints.txt" "$src"
  # kfp-gates apart from its dependencies: a new commit rebuilds one image layer, not all of them.
  mv "$out/wheels.partial"/kfp_gates-*.whl "$out/app.partial/"
fi
# pip runs from its own wheel in the build stage and is never installed into the image.
pip_version=$("$python" -m pip --version | cut -d' ' -f2)
[ -n "$(ls "$out/tools"/pip-"$pip_version"-*.whl 2>/dev/null)" ] || {
  rm -f "$out/tools"/pip-*.whl
  pipw download --quiet --no-deps --only-binary=:all: -d "$out/tools" "pip==$pip_version"; }
for d in wheels app; do
  [ -d "$out/$d.partial" ] || continue
  "$python" "$repo/deploy/image/hashed_requirements.py" "$out/$d.partial" > "$out/$d.partial/requirements.txt"
  # Unchanged hashes: keep the directory as it was, so the image build reuses its cached layers.
  if cmp -s "$out/$d/requirements.txt" "$out/$d.partial/requirements.txt"; then rm -rf "$out/$d.partial"
  else rm -rf "${out:?}/$d" && mv "$out/$d.partial" "$out/$d"; fi
done
# Outside the copied directories: the image's revision label, not a layer input.
echo "$commit" > "$out/SOURCE_COMMIT"
echo "wheelhouse: $(grep -c -- '--hash' "$out/wheels/requirements.txt") wheels, $(du -sh "$out/wheels" | cut -f1)" \
     "+ kfp-gates at ${commit:0:12}"
