#!/bin/sh
# Runs Chef/Cinc in local mode (bluegreen bake, linux template): Packer removed
# its Chef provisioners in 1.9, so it runs through shell. The cookbooks or the
# policy archive were uploaded to $CHEF_DIR by a file provisioner.
# CHEF_CLIENT: cinc | chef; CHEF_VERSION: version to install if missing.
set -eu
: "${CHEF_DIR:=/tmp/bluegreen-chef}"
: "${CHEF_CLIENT:=cinc}"
if [ "$CHEF_CLIENT" = cinc ]; then
  client=cinc-client; installer=https://omnitruck.cinc.sh/install.sh
else
  client=chef-client; installer=https://omnitruck.chef.io/install.sh
fi
if ! command -v "$client" >/dev/null 2>&1; then
  if [ -n "${CHEF_VERSION:-}" ]; then
    curl --fail --silent --show-error --location "$installer" | bash -s -- -v "$CHEF_VERSION"
  else
    curl --fail --silent --show-error --location "$installer" | bash
  fi
fi
export CHEF_LICENSE="${CHEF_LICENSE:-accept-no-persist}"
cd "$CHEF_DIR"
if [ -n "${CHEF_POLICY_ARCHIVE:-}" ]; then
  # `chef export --archive` output: it holds its own .chef/config.rb for local mode.
  mkdir -p policy
  tar -xzf "$CHEF_POLICY_ARCHIVE" -C policy
  cd policy
  "$client" --local-mode --json-attributes "$CHEF_DIR/node.json"
else
  "$client" --local-mode --chef-zero-port 8889 --config-option "cookbook_path=$CHEF_DIR/cookbooks" --json-attributes "$CHEF_DIR/node.json"
fi
