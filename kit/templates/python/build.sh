#!/bin/sh
# Builds the plugin: the component (componentize-py), then a package signed with a development
# key (the `insitu` binary: $INSITU, else `insitu` on PATH). Output: build/insitu-plugin-template.insitu
set -eu
cd "$(dirname "$0")"
INSITU="${INSITU:-insitu}"
COMPONENTIZE_PY="${COMPONENTIZE_PY:-componentize-py}"
mkdir -p build
# -d wit -w plugin: the WIT package and its world `plugin`.
# --stub-wasi: CPython's runtime imports all of WASI, sockets included, which the sandbox does
#   not link; this replaces every WASI import by a stub inside the component, so it imports
#   `insitu:plugin` alone (hence the manifest's `imports`). stdout and stderr then go nowhere:
#   log with insitu_kit.log(), and errors reach the host as `failed(message)`.
# app: the module holding the `WitWorld` class (with insitu_kit.py and rule.py beside it).
"$COMPONENTIZE_PY" -d wit -w plugin componentize --stub-wasi app -o build/plugin.wasm
"$INSITU" package pack build/plugin.wasm --manifest manifest.json \
    --out build/insitu-plugin-template.insitu
# A development key, made once and kept out of version control (build/ is ignored).
if [ ! -f build/dev.key ]; then
    keygen=$("$INSITU" publisher keygen --out build/dev.key)
    echo "$keygen" | sed -n 's/^public key: //p' > build/dev.pub
    echo "created the development key build/dev.key (public key in build/dev.pub)"
fi
"$INSITU" package sign build/insitu-plugin-template.insitu --publisher dev --key build/dev.key
echo "built build/insitu-plugin-template.insitu (signed by dev, public key in build/dev.pub)"
