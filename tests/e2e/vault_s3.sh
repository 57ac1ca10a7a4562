#!/usr/bin/env bash
# vault_s3.sh - vault_dir.sh against the real S3 server (Ceph RGW) that
# .ci/run starts; skipped when no S3 server is configured.
BACKEND=s3 exec bash "$(dirname "$0")/vault_dir.sh"
