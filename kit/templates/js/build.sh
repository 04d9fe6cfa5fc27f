#!/bin/sh
# Builds the plugin: the component (componentize-js), then a package signed with a development
# key (the `insitu` binary: $INSITU, else `insitu` on PATH). Output: build/insitu-plugin-template.insitu
# `npm install` first (it pins @bytecodealliance/componentize-js), or set COMPONENTIZE_JS.
set -eu
cd "$(dirname "$0")"
INSITU="${INSITU:-insitu}"
COMPONENTIZE_JS="${COMPONENTIZE_JS:-node_modules/.bin/componentize-js}"
mkdir -p build
# --wit wit --world-name plugin: the WIT package and its world `plugin`.
# --disable http fetch-event: the engine's `fetch` and incoming-request support import
#   `wasi:http`, which the sandbox does not link (the install would refuse the component).
#   stdio, random and clocks stay: the sandbox links them locked down (stdout and stderr go
#   to the run's log, so an uncaught exception reaches the run's failure reason; the clocks
#   are frozen and randomness is deterministic).
"$COMPONENTIZE_JS" app.js --wit wit --world-name plugin --disable http fetch-event \
    -o build/plugin.wasm
"$INSITU" package pack build/plugin.wasm --manifest manifest.json \
    --out build/insitu-plugin-template.insitu
if [ ! -f build/dev.key ]; then
    keygen=$("$INSITU" publisher keygen --out build/dev.key)
    echo "$keygen" | sed -n 's/^public key: //p' > build/dev.pub
    echo "created the development key build/dev.key (public key in build/dev.pub)"
fi
"$INSITU" package sign build/insitu-plugin-template.insitu --publisher dev --key build/dev.key
echo "built build/insitu-plugin-template.insitu (signed by dev, public key in build/dev.pub)"
