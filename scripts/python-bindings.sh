#!/usr/bin/env bash
# The Python bindings, from the jsii assembly (.jsii, which `npx jsii` writes; npm test does), as
# far as this machine goes without PyPI: jsii-pacmak generates the package's sources (its
# `npm pack`, which runs the package build, gives the JavaScript the Python package embeds), they
# are checked against the assembly and byte-compiled (scripts/check-python-bindings.py), and
# setuptools builds the source distribution. Neither a wheel (no `wheel` module) nor an import of
# the module (needs jsii, aws-cdk-lib and constructs from PyPI) is possible offline. Nothing is
# published. Output: dist-jsii/python (sources) and dist-jsii/python-sdist (the .tar.gz), not under
# dist/, which the package build that pacmak's npm pack runs cleans.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist-jsii
if [ ! -f .jsii ]; then
  echo "python bindings: .jsii is missing; compile the assembly first (npx jsii)" >&2
  exit 1
fi
rm -rf "$out/python" "$out/python-sdist"
# --code-only: pacmak's own packaging step creates a virtualenv and installs build tools from PyPI.
# --no-npmignore: the package lists its `files`; pacmak must not write an .npmignore here.
npx jsii-pacmak --targets python --code-only --no-npmignore --no-fingerprint --outdir "$out"
python3 scripts/check-python-bindings.py "$out/python" .jsii
# (-W ignore: setuptools warns about pacmak's bdist_wheel option, which only a wheel build reads.)
(cd "$out/python" && python3 -W ignore setup.py -q sdist --dist-dir ../python-sdist)
sdist=$(ls "$out/python-sdist"/*.tar.gz)
tar -tzf "$sdist" | grep '/_jsii/.*\.jsii\.tgz$' >/dev/null || { echo "python bindings: $sdist lacks the embedded JavaScript (_jsii/*.jsii.tgz)" >&2; exit 1; }
echo "python bindings: source distribution $sdist"
