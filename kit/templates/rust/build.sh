#!/bin/sh
# Builds the plugin and packs it into a signed package: build/insitu-plugin-template.insitu.
#
# The `insitu` command is $INSITU if set, else `insitu` on your PATH. The package is signed
# with a development key, build/dev.key, created here on the first build (keep it private;
# build/ is in .gitignore). Install the package into a store that trusts the key (see README.md).
set -eu
cd "$(dirname "$0")"
INSITU="${INSITU:-insitu}"
if ! command -v "$INSITU" >/dev/null 2>&1; then
    echo "build.sh: cannot find the insitu command; put it on your PATH or set INSITU=/path/to/insitu" >&2
    exit 1
fi

cargo build --release --target wasm32-wasip2
component="${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/insitu_plugin_template.wasm"

mkdir -p build
"$INSITU" package pack "$component" --manifest manifest.json \
    --out build/insitu-plugin-template.insitu
if [ ! -f build/dev.key ]; then
    keygen=$("$INSITU" publisher keygen --out build/dev.key)
    echo "$keygen" | sed -n 's/^public key: //p' > build/dev.pub
    echo "created the development key build/dev.key (public key in build/dev.pub)"
fi
"$INSITU" package sign build/insitu-plugin-template.insitu --publisher dev --key build/dev.key
echo "built build/insitu-plugin-template.insitu, signed by dev (public key in build/dev.pub)"
