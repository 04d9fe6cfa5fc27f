#!/bin/sh
# Builds the plugin and packs it into a signed package: insitu-plugin-template.insitu.
#
# The `insitu` command is $INSITU if set, else `insitu` on your PATH. The package is signed
# with a development key, dev.key, created here on the first build (keep it private; it is in
# .gitignore). Install the package into a store that trusts the key (see README.md).
set -eu
cd "$(dirname "$0")"
INSITU="${INSITU:-insitu}"
if ! command -v "$INSITU" >/dev/null 2>&1; then
    echo "build.sh: cannot find the insitu command; put it on your PATH or set INSITU=/path/to/insitu" >&2
    exit 1
fi

cargo build --release --target wasm32-wasip2
component="${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/insitu_plugin_template.wasm"

"$INSITU" package pack "$component" --manifest manifest.json --out insitu-plugin-template.insitu
if [ ! -f dev.key ]; then
    keygen=$("$INSITU" publisher keygen --out dev.key)
    echo "$keygen" | sed -n 's/^public key: //p' > dev.pub
    echo "created the development key dev.key (public key in dev.pub)"
fi
"$INSITU" package sign insitu-plugin-template.insitu --publisher dev --key dev.key
echo "built insitu-plugin-template.insitu, signed by dev (public key: $(cat dev.pub 2>/dev/null))"
