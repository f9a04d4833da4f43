#!/bin/sh
# Fetches the build artifact onto the image (bluegreen bake, linux template).
# ARTIFACT_URL: s3://bucket/key (needs the AWS CLI and an instance profile
# allowed s3:GetObject) or https://... ; ARTIFACT_DIR: where to put it.
set -eu
: "${ARTIFACT_URL:?ARTIFACT_URL is not set}"
: "${ARTIFACT_DIR:=/opt/bluegreen/artifact}"
mkdir -p "$ARTIFACT_DIR"
name=$(basename "${ARTIFACT_URL%%\?*}")
case "$ARTIFACT_URL" in
  s3://*)
    if ! command -v aws >/dev/null 2>&1; then
      echo "fetch-artifact: the AWS CLI is needed to fetch an s3:// artifact; install it in an earlier step or use an https:// URL" >&2
      exit 1
    fi
    aws s3 cp --only-show-errors "$ARTIFACT_URL" "$ARTIFACT_DIR/$name"
    ;;
  http://*|https://*)
    curl --fail --silent --show-error --location --retry 3 --output "$ARTIFACT_DIR/$name" "$ARTIFACT_URL"
    ;;
  *)
    echo "fetch-artifact: unsupported URL scheme" >&2
    exit 1
    ;;
esac
echo "fetch-artifact: $ARTIFACT_DIR/$name ($(wc -c < "$ARTIFACT_DIR/$name") bytes)"
